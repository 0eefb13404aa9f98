"""tools/train.py and tools/test.py end to end on tiny generated data: train, checkpoint, resume after a crash,
evaluate with overlays, mixed precision on CPU."""
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from segkit.fileio.checkpoint import safe_load

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))
import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402

TINY = '''
_base_ = [{base!r}]
model = dict(
    data_preprocessor=dict(size=(32, 32)),
    backbone=dict(stem_channels=8, base_channels=8, norm_cfg=dict(type={norm!r}, requires_grad=True)),
    decode_head=dict(in_channels=64, channels=8, low_level_in_channels=8, low_level_channels=4),
    auxiliary_head=dict(in_channels=32, channels=4))
_data = dict(data_root={data!r}, num_train=8, num_val=4, img_size=32)
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(32, 32)), dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(_data, pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={iters}, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=5), logger=dict(interval=1),
                     visualization=dict(draw=True, out_dir='overlays', max_images=2))
custom_hooks = []
{extra}
'''


def write_config(tmp_path, iters=4, extra='', norm='BN'):
    path = tmp_path / f'tiny_{iters}.py'
    path.write_text(TINY.format(base=str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py'),
                                data=str(tmp_path / 'shapes'), iters=iters, extra=extra, norm=norm))
    return str(path)


def last_checkpoint(work_dir):
    return (Path(work_dir) / 'last_checkpoint').read_text().strip()


def test_train_writes_checkpoints_metrics_and_overlays(tmp_path):
    work = tmp_path / 'work'
    train_tool.main([write_config(tmp_path), '--work-dir', str(work)])
    ckpt = safe_load(str(work / 'iter_4.pth'))  # weights_only + allowlist
    assert ckpt['meta']['iter'] == 4
    assert ckpt['meta']['dataset_meta']['classes'][0] == 'background'
    assert len(list((work / 'overlays').glob('*.png'))) == 2
    assert last_checkpoint(work).endswith('iter_4.pth')


def test_crash_keeps_last_checkpoint_and_resume_finishes(tmp_path, monkeypatch):
    (tmp_path / 'crash_hook.py').write_text(textwrap.dedent('''
        from mmengine.hooks import Hook
        from segkit.registry import HOOKS

        @HOOKS.register_module()
        class CrashAtIter3(Hook):
            def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
                if runner.iter + 1 == 3:
                    raise RuntimeError('simulated crash at iteration 3')
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    work = tmp_path / 'work'
    crashing = write_config(tmp_path, iters=6, extra="custom_imports = dict(imports=['crash_hook'])\n"
                                                     "custom_hooks = [dict(type='CrashAtIter3')]")
    with pytest.raises(RuntimeError, match='simulated crash'):
        train_tool.main([crashing, '--work-dir', str(work)])
    assert last_checkpoint(work).endswith('iter_2.pth')
    saved = safe_load(str(work / 'iter_2.pth'))
    assert saved['meta']['iter'] == 2

    (tmp_path / 'resume').mkdir()
    resumed = write_config(tmp_path / 'resume', iters=6)
    train_tool.main([resumed, '--work-dir', str(work), '--resume'])
    final = safe_load(str(work / 'iter_6.pth'))
    assert final['meta']['iter'] == 6
    # the resumed run continued the optimiser: SGD momentum buffers exist from the first run's steps
    assert final['optimizer']['state']
    assert not (work / 'iter_3.pth').exists()


def test_test_tool_loads_checkpoint_writes_overlays_and_predictions(tmp_path):
    work = tmp_path / 'work'
    cfg = write_config(tmp_path)
    train_tool.main([cfg, '--work-dir', str(work)])
    show, out = tmp_path / 'show', tmp_path / 'preds'
    metrics = test_tool.main([cfg, str(work / 'iter_4.pth'), '--work-dir', str(tmp_path / 'eval'),
                              '--show-dir', str(show), '--out', str(out)])
    assert 0 <= metrics['mIoU'] <= 100 and 'aAcc' in metrics
    assert len(list(show.glob('*.png'))) == 4 and len(list(out.glob('*.png'))) == 4
    tta = test_tool.main([cfg, str(work / 'iter_4.pth'), '--work-dir', str(tmp_path / 'eval_tta'), '--tta'])
    assert 0 <= tta['mIoU'] <= 100


def test_amp_on_cpu_uses_bfloat16_autocast(tmp_path):
    args = train_tool.parse_args([write_config(tmp_path), '--amp'])
    cfg = train_tool.build_config(args)
    if torch.cuda.is_available():
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:
        assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
        work = tmp_path / 'amp'
        train_tool.main([write_config(tmp_path), '--amp', '--work-dir', str(work),
                         '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2'])
        history = safe_load(str(work / 'iter_2.pth'))['message_hub']['log_scalars']['train/loss']
        losses = torch.tensor(history.data[0])
        assert len(losses) == 2 and torch.isfinite(losses).all()


def test_syncbn_falls_back_to_bn_without_distribution(tmp_path):
    args = train_tool.parse_args(['configs/deeplabv3plus/r50_512x512_voc.py'])
    cfg = train_tool.build_config(args)
    assert cfg.model.backbone.norm_cfg.type == 'BN' and cfg.model.decode_head.norm_cfg.type == 'BN'
    assert cfg.work_dir == 'work_dirs/r50_512x512_voc'


def test_unreachable_imagenet_weights_warn_on_build_but_stop_training(tmp_path, monkeypatch):
    from mmengine.registry import MODELS
    from mmengine.runner.checkpoint import CheckpointLoader

    def offline(filename, map_location=None):
        raise OSError('Name or service not known')

    monkeypatch.setitem(CheckpointLoader._schemes, 'open-mmlab://', offline)
    args = train_tool.parse_args(['configs/deeplabv3plus/r50_512x512_voc.py',
                                  '--cfg-options', 'model.backbone.depth=18', 'model.decode_head.in_channels=512',
                                  'model.decode_head.low_level_in_channels=64',
                                  'model.auxiliary_head.in_channels=256'])
    cfg = train_tool.build_config(args)
    model = MODELS.build(cfg.model)
    model.init_weights()  # warns, keeps random weights: the config stays usable offline (benchmarks, tests)
    with pytest.raises(RuntimeError, match="model.backbone.init_cfg: ImageNet weights 'open-mmlab://resnet50_v1c'"):
        train_tool.main(['configs/deeplabv3plus/r50_512x512_voc.py', '--work-dir', str(tmp_path)])
