"""Config mistakes turned into errors that name the key, the type and the fix.

- A keyword the class of a ``type`` does not take (a misspelt head argument, ``train_cfg.max_iter``): Python's
  ``TypeError: X.__init__() got an unexpected keyword argument`` becomes :class:`UnexpectedArgumentError` naming
  the config path, the type, the accepted arguments and the closest one (segkit's registries do it for what they
  build; :func:`segkit.engine.config_setup.explain_config_errors` for what mmengine's Runner builds, and adds
  the path).
- ``--cfg-options`` naming a list index that does not exist or a misspelt section (:func:`check_cfg_options`).
"""
import difflib
import inspect
import re
from collections.abc import Mapping
from typing import List, Optional

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
