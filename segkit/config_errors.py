"""Config mistakes turned into errors that name the key, the type and the fix.

- A keyword the class of a ``type`` does not take (a misspelt head argument, ``train_cfg.max_iter``): Python's
  ``TypeError: X.__init__() got an unexpected keyword argument`` becomes :class:`UnexpectedArgumentError` naming
  the config path, the type, the accepted arguments and the closest one (segkit's registries do it for what they
  build; :func:`segkit.engine.config_setup.explain_config_errors` for what mmengine's Runner builds, and adds
  the path).
- ``--cfg-options`` naming a list index that does not exist or a misspelt section (:func:`check_cfg_options`).
- A Python syntax error in a config or one of its ``_base_`` files: mmengine parses the text without its file
  name (``File "<unknown>"``); :func:`config_syntax_error` names the file and the line.
"""
import ast
import difflib
import inspect
import os.path as osp
import re
from collections.abc import Mapping
from typing import Iterator, List, Optional, Tuple

_UNEXPECTED = re.compile(r"__init__\(\) got an unexpected keyword argument '(\w+)'")


class UnexpectedArgumentError(TypeError):
    """A config passes a keyword that the class of its ``type`` does not take."""

    def __init__(self, message: str, type_name: str = '', key: str = ''):
        super().__init__(message)
        self.type_name, self.key = type_name, key


def accepted_arguments(cls) -> List[str]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` passed on to base classes."""
    names: List[str] = []
    for klass in getattr(cls, '__mro__', ()):
        if '__init__' not in vars(klass):
            continue
        params = list(inspect.signature(vars(klass)['__init__']).parameters.values())[1:]
        names += [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def unexpected_key(exc: BaseException) -> Optional[str]:
    """The keyword of Python's 'unexpected keyword argument' ``TypeError``, or None for any other error."""
    found = _UNEXPECTED.search(str(exc))
    return found.group(1) if found else None


def unexpected_argument(exc: TypeError, cfg, cls, path: str = '') -> Optional[UnexpectedArgumentError]:
    """The clear error for ``exc`` when it is Python's 'unexpected keyword argument' for a key of ``cfg``, whose
    ``type`` is the class ``cls`` (None when unknown)."""
    key = unexpected_key(exc)
    if key is None or not isinstance(cfg, Mapping) or key not in cfg:
        return None
    accepted = accepted_arguments(cls) if cls is not None else None
    if not accepted or key in accepted:
        return None  # raised deeper down, not by this config's keys
    close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ''
    where = f'{path}.{key}: ' if path else ''
    return UnexpectedArgumentError(
        f"{where}{cls.__name__} (type='{cls.__name__}') takes no argument '{key}'.{hint} Its arguments: "
        f"{', '.join(accepted)}. Fix or remove the key in the config (or in --cfg-options).", cls.__name__, key)


def check_cfg_options(cfg, options: Mapping) -> None:
    """Raise if a ``--cfg-options`` key indexes past a list or names a missing section close to an existing one
    (a new key or a new section with no look-alike is allowed: that is how options add settings)."""
    for option in options:
        node, walked = getattr(cfg, '_cfg_dict', cfg), []  # an mmengine Config holds its ConfigDict
        for part in option.split('.')[:-1]:
            walked.append(part)
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise KeyError(f"--cfg-options {option}: '{'.'.join(walked[:-1])}' is a list of {len(node)} "
                                   f"entries, so its index must be 0..{len(node) - 1}, not '{part}'.")
                node = node[int(part)]
            elif isinstance(node, Mapping):
                if part not in node:
                    close = difflib.get_close_matches(part, [str(k) for k in node], n=1, cutoff=0.75)
                    if close:
                        raise KeyError(f"--cfg-options {option}: the config has no '{'.'.join(walked)}'; did you "
                                       f"mean '{'.'.join(walked[:-1] + close)}'?")
                    break
                node = node[part]
            else:
                break


def _config_chain(path: str, seen=None) -> Iterator[str]:
    """``path`` and, depth first, the local ``_base_`` files it names (as far as they parse)."""
    seen = set() if seen is None else seen
    path = osp.abspath(path)
    if path in seen or not osp.isfile(path):
        return
    seen.add(path)
    yield path
    try:
        tree = ast.parse(open(path, encoding='utf-8').read())
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:  # not a literal: mmengine resolves it
                continue
            for base in [bases] if isinstance(bases, str) else list(bases):
                yield from _config_chain(osp.join(osp.dirname(path), str(base)), seen)


def config_syntax_error(path: str) -> Optional[SyntaxError]:
    """A ``SyntaxError`` naming the file (``path`` or one of its ``_base_`` files), the line and the fix, for the
    first of them that is not valid Python; None when they all parse."""
    for file in _config_chain(path):
        try:
            compile(open(file, encoding='utf-8').read(), file, 'exec', dont_inherit=True)
        except SyntaxError as exc:
            where = '' if file == osp.abspath(path) else f' (a _base_ of {path})'
            text = (exc.text or '').rstrip('\n')
            return SyntaxError(f'config {file}{where}, line {exc.lineno}: {exc.msg}: {text.strip()!r}. Fix that '
                               f'line (a missing comma, bracket or quote is the usual cause).',
                               (file, exc.lineno, exc.offset, text))
    return None


def typed_dicts(node, path: str = '') -> Iterator[Tuple[str, Mapping]]:
    """(config path, dict) for every dict with a ``type`` key under ``node`` (lists indexed by position)."""
    if isinstance(node, Mapping):
        if 'type' in node:
            yield path, node
        for key, value in node.items():
            yield from typed_dicts(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from typed_dicts(value, f'{path}.{index}')
