"""segkit's layers import downwards only: ``segkit/fileio`` (reading checkpoints) below ``segkit/models`` below
``segkit/engine`` (training) and ``segkit/deployment`` (runtimes, which models reach by registry name only).
An upward import, even one inside a function, is a failure naming the file."""
import ast
from pathlib import Path

import pytest

SEGKIT = Path(__file__).resolve().parents[1] / 'segkit'

#: package -> the segkit packages its modules must not import
FORBIDDEN = {
    'fileio': ('segkit.models', 'segkit.engine', 'segkit.apis', 'segkit.deployment'),
    'models': ('segkit.engine', 'segkit.apis', 'segkit.deployment'),
}


def imported_modules(path: Path, package: str):
    """(line, module) of every import in ``path``, relative ones resolved against ``package``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit('.', node.level - 1)[0] if node.level else ''
            module = '.'.join(p for p in (base, node.module) if p)
            yield node.lineno, module
            yield from ((node.lineno, f'{module}.{alias.name}') for alias in node.names)  # maybe submodules


def _package_of(path: Path) -> str:
    return '.'.join(path.relative_to(SEGKIT.parent).with_suffix('').parts[:-1])


@pytest.mark.parametrize('package', sorted(FORBIDDEN))
def test_no_upward_imports(package):
    upward = [f'{path.relative_to(SEGKIT.parent)}:{line} imports {module}'
              for path in sorted((SEGKIT / package).rglob('*.py'))
              for line, module in imported_modules(path, _package_of(path))
              if module.startswith(FORBIDDEN[package])]
    assert not upward, upward


def test_the_check_sees_relative_and_function_level_imports(tmp_path):
    module = tmp_path / 'm.py'
    module.write_text('import os\nfrom ...engine.checkpoint import safe_checkpoint_io\n'
                      'def f():\n    from segkit.engine import faults\n')
    assert list(imported_modules(module, 'segkit.models.backbones')) == [
        (1, 'os'), (2, 'segkit.engine.checkpoint'), (2, 'segkit.engine.checkpoint.safe_checkpoint_io'),
        (4, 'segkit.engine'), (4, 'segkit.engine.faults')]


@pytest.mark.parametrize('path, forbidden', [
    ('config_errors.py', 'segkit.registry'),  # the registry turns build errors into config errors, not back
    ('models/backbones/convert_mobilenet_v3.py', 'segkit.models.backbones.mobilenet_v3'),  # the table is its own
])
def test_former_import_cycles_stay_broken(path, forbidden):
    path = SEGKIT / path
    imports = [module for _, module in imported_modules(path, _package_of(path))]
    assert forbidden not in imports and not any(m.startswith(forbidden + '.') for m in imports), imports
