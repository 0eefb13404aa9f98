"""Minimum versions, checked by the tools at start-up with a message that says what to install.

Nothing here runs at import time: ``import segkit`` never fails on a version number.
"""
from importlib import metadata
from typing import Dict, List, Tuple

#: distribution name -> (minimum version, the import it provides); mirrors requirements/runtime.txt
MINIMUM_VERSIONS: Dict[str, Tuple[str, ...]] = {
    'torch': ('2.1',),
    'torchvision': ('0.16',),
    'mmengine': ('0.10.4',),
    'numpy': ('1.24',),
    'prettytable': ('3.0',),
}
#: packages of which one must be installed
ONE_OF = {'mmcv': (('mmcv-lite', '2.1.0'), ('mmcv', '2.1.0'))}


def _as_tuple(version: str) -> Tuple[int, ...]:
    parts = []
    for piece in version.split('+')[0].split('.'):
        digits = ''.join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _installed(name: str):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def dependency_problems() -> List[str]:
    problems = []
    for name, (minimum,) in MINIMUM_VERSIONS.items():
        found = _installed(name)
        if found is None:
            problems.append(f'{name} is not installed: pip install "{name}>={minimum}"')
        elif _as_tuple(found) < _as_tuple(minimum):
            problems.append(f'{name} {found} is too old, segkit needs >= {minimum}: pip install -U "{name}>={minimum}"')
    for module, choices in ONE_OF.items():
        found = [(dist, _installed(dist), minimum) for dist, minimum in choices if _installed(dist)]
        if not found:
            problems.append(f'{module} is not installed: pip install "mmcv-lite>={choices[0][1]}" '
                            '(the pip-installable mmcv without compiled ops is enough)')
        elif all(_as_tuple(version) < _as_tuple(minimum) for _, version, minimum in found):
            dist, version, minimum = found[0]
            problems.append(f'{dist} {version} is too old, segkit needs >= {minimum}: '
                            f'pip install -U "{dist}>={minimum}"')
    return problems


def check_dependencies() -> None:
    """Raise ``RuntimeError`` listing every missing or too-old dependency with the pip command that fixes it."""
    problems = dependency_problems()
    if problems:
        raise RuntimeError('segkit cannot run with the installed packages:\n  - ' + '\n  - '.join(problems))
