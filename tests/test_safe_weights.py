"""Safe weights and imports: hash-named files are verified, `import segkit` leaves mmengine alone (the safe IO is
scoped to safe_checkpoint_io), and every torch.load in segkit/ and tools/ is weights_only=True."""
import ast
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import segkit.fileio.hash_check as hash_check
from segkit.engine.checkpoint import safe_checkpoint_io
from segkit.fileio.checkpoint import safe_load
from segkit.fileio.hash_check import HashMismatchError
from tests.conftest import MOBILENET_WEIGHTS

REPO = Path(__file__).resolve().parents[1]

MMENGINE_STATE = '''
import copyreg
from mmengine.fileio.backends.registry_utils import backends, prefix_to_backends
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

def state():
    return (CheckpointLoader._schemes[''], backends['local'], prefix_to_backends[''],
            copyreg.dispatch_table.get(HistoryBuffer))
'''


def saved_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def hash_named(folder: Path, payload: bytes, name='weights') -> Path:
    path = folder / f'{name}-{hashlib.sha256(payload).hexdigest()[:8]}.pth'
    path.write_bytes(payload)
    return path


def test_plain_import_leaves_mmengine_as_it_was():
    code = MMENGINE_STATE + '''
before = state()
import segkit, segkit.apis, segkit.models, segkit.datasets, segkit.engine, segkit.evaluation, segkit.registry
from segkit.registry import HOOKS, LOOPS
HOOKS.import_from_location(); LOOPS.import_from_location()
assert state() == before, (before, state())
from segkit.engine.checkpoint import safe_checkpoint_io
with safe_checkpoint_io():
    inside = state()
assert inside != before and all(a is not b for a, b in zip(inside, before)), inside
assert state() == before
print('unchanged')
'''
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(REPO), capture_output=True, text=True, timeout=300,
                          env={'PYTHONPATH': str(REPO), 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 0 and proc.stdout.strip() == 'unchanged', proc.stderr[-2000:]


def test_safe_io_is_restored_after_an_error():
    namespace = {}
    exec(MMENGINE_STATE, namespace)
    before = namespace['state']()
    with pytest.raises(RuntimeError), safe_checkpoint_io():
        assert namespace['state']() != before
        raise RuntimeError('boom')
    assert namespace['state']() == before


def test_every_torch_load_is_weights_only():
    calls = []
    for path in sorted(list((REPO / 'segkit').rglob('*.py')) + list((REPO / 'tools').rglob('*.py'))):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'load'
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == 'torch'):
                flags = {k.arg: k.value for k in node.keywords}
                ok = isinstance(flags.get('weights_only'), ast.Constant) and flags['weights_only'].value is True
                calls.append((f'{path.relative_to(REPO)}:{node.lineno}', ok))
    assert calls and all(ok for _, ok in calls), [where for where, ok in calls if not ok]
    print(f'\n{len(calls)} torch.load calls, all weights_only=True: {[where for where, _ in calls]}')


def test_hash_named_file_is_verified_once(tmp_path, monkeypatch):
    payload = saved_bytes({'w': torch.arange(4.0)})
    good = hash_named(tmp_path, payload)
    hashed = []
    real = hash_check.sha256_of
    monkeypatch.setattr(hash_check, 'sha256_of', lambda path: hashed.append(path) or real(path))
    assert torch.equal(safe_load(str(good))['w'], torch.arange(4.0))
    safe_load(str(good))
    assert len(hashed) == 1  # the second load trusts the remembered (path, size, mtime)
    bad = tmp_path / good.name.replace(good.stem[-8:], 'deadbeef')
    bad.write_bytes(payload)
    with pytest.raises(HashMismatchError) as err:
        safe_load(str(bad))
    assert str(bad) in str(err.value) and 'deadbeef' in str(err.value) and 'download it again' in str(err.value)


def test_a_file_changed_after_verification_is_hashed_again(tmp_path):
    payload = saved_bytes({'w': torch.ones(3)})
    path = hash_named(tmp_path, payload)
    safe_load(str(path))
    path.write_bytes(payload[:-10])  # truncated in place
    with pytest.raises(HashMismatchError, match=path.name):
        safe_load(str(path))


def test_names_that_are_not_hashes_are_left_alone(tmp_path):
    for name in ('model-20240101.pth', 'iter_4000.pth', 'resnet-50.pth'):
        (tmp_path / name).write_bytes(saved_bytes({'w': torch.zeros(1)}))
        safe_load(str(tmp_path / name))


def test_corrupt_pretrained_backbone_file_is_named(tmp_path):
    from segkit.models.backbones import MobileNetV2
    payload = saved_bytes({'features.0.0.weight': torch.zeros(1)})
    path = tmp_path / 'mobilenet_v2-b0353104.pth'  # torchvision's name, other content
    path.write_bytes(payload)
    model = MobileNetV2(widen_factor=0.5, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(HashMismatchError, match='mobilenet_v2-b0353104.pth'):
        model.init_weights()


@pytest.mark.skipif(not MOBILENET_WEIGHTS.is_file(), reason='needs ../shared/weights')
def test_torchvision_file_passes_its_hash():
    hash_check.verify_hash_suffix(str(MOBILENET_WEIGHTS))
