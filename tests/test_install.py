"""Install-level facts: segkit imports without mmcv's compiled ops, and old dependencies get a clear message."""
import subprocess
import sys

import pytest

from segkit.engine import dependencies


def test_segkit_and_every_module_import_without_mmcv_ops():
    code = (
        'import sys, pkgutil, importlib, segkit\n'
        'for m in pkgutil.walk_packages(segkit.__path__, "segkit."):\n'
        '    importlib.import_module(m.name)\n'
        'bad = [m for m in sys.modules if m.startswith("mmcv.ops") or m.startswith("mmcv._ext")]\n'
        'assert not bad, bad\n'
        'print("ok")\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith('ok'), out.stderr[-2000:]


def test_installed_versions_are_accepted():
    assert dependencies.dependency_problems() == []


def test_too_old_dependency_names_package_and_fix(monkeypatch):
    real = dependencies._installed
    monkeypatch.setattr(dependencies, '_installed', lambda name: '0.7.1' if name == 'mmengine' else real(name))
    with pytest.raises(RuntimeError) as err:
        dependencies.check_dependencies()
    assert 'mmengine 0.7.1 is too old' in str(err.value) and 'pip install -U "mmengine>=0.10.4"' in str(err.value)
