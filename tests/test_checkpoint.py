import collections
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from segkit.engine.checkpoint import safe_checkpoint_io
from segkit.fileio.checkpoint import TRUST_ENV, CorruptCheckpointError, UnsafeCheckpointError, safe_load


class Payload:
    """An arbitrary class: unpickling it would run code from wherever it lives."""

    def __init__(self):
        self.x = 1


def test_runner_style_checkpoint_loads_weights_only(tmp_path):
    buf = HistoryBuffer()
    buf.update(np.float64(0.5))
    ckpt = dict(meta=dict(iter=4, seed=0, dataset_meta=dict(classes=('a', 'b'), palette=[[0, 0, 0], [1, 1, 1]])),
                state_dict=collections.OrderedDict(w=torch.ones(2)),
                message_hub=dict(log_scalars={'train/loss': buf}, runtime_info={'iter': 4, 'arr': np.arange(3)}),
                optimizer={'state': {}, 'param_groups': [{'lr': 0.1}]})
    path = tmp_path / 'iter_4.pth'
    with safe_checkpoint_io():  # as in tools/train.py: HistoryBuffer pickled through its constructor
        torch.save(ckpt, path)
        loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')  # what mmengine's Runner calls
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 0.5


def test_untrusted_pickle_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'extra': Payload()}, path)
    monkeypatch.delenv(TRUST_ENV, raising=False)
    with pytest.raises(UnsafeCheckpointError) as err:
        safe_load(str(path))
    msg = str(err.value)
    assert str(path) in msg and TRUST_ENV in msg and 'Payload' in msg
    assert isinstance(err.value, pickle.UnpicklingError)
    monkeypatch.setenv(TRUST_ENV, str(path))  # explicit opt-in for this file only
    assert safe_load(str(path))['extra'].x == 1
    other = tmp_path / 'other.pth'
    torch.save({'extra': Payload()}, other)
    with pytest.raises(UnsafeCheckpointError):
        safe_load(str(other))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        safe_load(str(tmp_path / 'nothere.pth'))


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend
    with safe_checkpoint_io():
        backend = get_file_backend(str(tmp_path / 'x.pth'))
    target = tmp_path / 'ckpt.pth'
    backend.put(b'good', str(target))

    class Boom(RuntimeError):
        pass

    real_fsync = __import__('os').fsync

    def failing_fsync(fd):
        real_fsync(fd)
        raise Boom('disk full')

    monkeypatch.setattr('os.fsync', failing_fsync)
    with pytest.raises(Boom):
        backend.put(b'half-written', str(target))
    assert target.read_bytes() == b'good'
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pth']  # no temporary file left behind


class _SaveKilled(RuntimeError):
    pass


def _fake_runner(work_dir, fail_at_save):
    from types import SimpleNamespace

    from mmengine.logging import MessageHub
    from segkit.engine.checkpoint import write_atomically
    saves = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        saves.append(filename)
        if len(saves) == fail_at_save:
            raise _SaveKilled(filename)  # the process dies while writing: nothing of the new file is in place
        write_atomically(f'{out_dir}/{filename}', b'complete checkpoint')
    return SimpleNamespace(work_dir=str(work_dir), save_checkpoint=save_checkpoint, hooks=[],
                           message_hub=MessageHub.get_instance('checkpoint_hook_test'))


def test_checkpoint_hook_writes_the_new_file_before_deleting_the_old(tmp_path):
    """mmengine deletes the checkpoint beyond max_keep_ckpts first; killed then, with max_keep_ckpts=1 nothing
    would be left and last_checkpoint would name a deleted file."""
    from collections import deque

    from mmengine.fileio import get_file_backend
    from segkit.engine.hooks import CheckpointHook
    hook = CheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.out_dir, hook.file_backend, hook.keep_ckpt_ids = str(tmp_path), get_file_backend(str(tmp_path)), deque([], 1)
    runner = _fake_runner(tmp_path, fail_at_save=2)
    hook._save_checkpoint_with_step(runner, 1, meta=dict(iter=1))
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_1.pth')
    with pytest.raises(_SaveKilled):
        hook._save_checkpoint_with_step(runner, 2, meta=dict(iter=2))
    latest = (tmp_path / 'last_checkpoint').read_text()
    assert latest == str(tmp_path / 'iter_1.pth') and (tmp_path / 'iter_1.pth').read_bytes() == b'complete checkpoint'
    hook.keep_ckpt_ids = deque([1], 1)  # the resumed run's hook, from iter_1's message hub
    hook._save_checkpoint_with_step(_fake_runner(tmp_path, fail_at_save=0), 3, meta=dict(iter=3))
    assert sorted(p.name for p in tmp_path.glob('iter_*')) == ['iter_3.pth']  # old ones go once the new is in
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_3.pth')


# ------------------------------------------------------------------------------ damaged files, named with the fix


def _truncated(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return path


@pytest.mark.parametrize('damage, reason', [
    (lambda p: _truncated(p), 'without its end: truncated'),
    (lambda p: _truncated(p, 0.99), 'without its end: truncated'),
    (lambda p: p.write_bytes(b''), 'it is empty'),
    (lambda p: p.write_bytes(b'<html>404 Not Found</html>'), "does not start like a file of torch.save"),
])
def test_damaged_checkpoint_is_named_with_the_likely_cause(tmp_path, damage, reason):
    path = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.arange(1000.0)}}, path)
    damage(path)
    with pytest.raises(CorruptCheckpointError, match=reason) as err:
        safe_load(str(path))
    assert str(path) in str(err.value) and 'Download or copy it again' in str(err.value)


def test_truncated_legacy_format_is_named(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save({'w': torch.arange(1000.0)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(CorruptCheckpointError, match=r"legacy.pth: .*legacy format\): truncated"):
        safe_load(str(_truncated(path)))


def test_truncated_checkpoint_through_init_model(tmp_path):
    """segkit.apis.init_model reads the checkpoint inside safe_checkpoint_io: the error names the file."""
    from mmengine.config import Config

    from segkit.apis import init_model
    from tests.helpers import tiny_deeplabv3plus
    cfg = Config.fromfile('configs/deeplabv3plus/r18_96x96_shapes.py')
    cfg.model = Config(dict(model=tiny_deeplabv3plus(num_classes=6))).model
    model = init_model(cfg)
    path = tmp_path / 'iter_100.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    with pytest.raises(CorruptCheckpointError, match=r'iter_100.pth: not a complete checkpoint file: .*truncated'):
        init_model(cfg, str(_truncated(path)))


@pytest.mark.parametrize('backbone', [dict(type='MobileNetV2', widen_factor=0.25),
                                      dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8)])
def test_truncated_pretrained_file_through_the_backbone_init_cfg(tmp_path, backbone):
    from segkit.registry import BACKBONES
    path = tmp_path / 'imagenet.pth'
    torch.save(BACKBONES.build(backbone).state_dict(), path)
    _truncated(path)
    model = BACKBONES.build(dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    with safe_checkpoint_io(), pytest.raises(CorruptCheckpointError, match=r'imagenet.pth: .*truncated'):
        model.init_weights()


def test_truncated_safetensors_file_is_named(tmp_path):
    from safetensors.torch import save_file

    from segkit.models.backbones.pretrained import read_state_dict
    path = tmp_path / 'model.safetensors'
    save_file({'w': torch.arange(100.0)}, str(path))
    with pytest.raises(CorruptCheckpointError, match=r'model.safetensors: .*safetensors cannot read it'):
        read_state_dict(str(_truncated(path)))


def test_the_product_holds_no_fault_points():
    """Crash tests inject their faults from tests/fault_plugin.py; segkit's write path knows nothing of them."""
    from pathlib import Path
    segkit = Path(__file__).resolve().parents[1] / 'segkit'
    found = [str(p) for p in segkit.rglob('*.py') if 'fault_point' in p.read_text() or 'SEGKIT_FAULT' in p.read_text()]
    assert not found, found
