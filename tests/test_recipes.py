"""Training recipe switches: warm-up before poly, gradient accumulation, auto_scale_lr, FrozenBN and the two-stage
VOC configs."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS, PARAM_SCHEDULERS

from segkit.fileio.checkpoint import safe_load
from segkit.models.frozen_bn import FrozenBatchNorm2d
from tests.helpers import tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'configs'


def lr_curve(cfg, iters):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer)) for s in copy.deepcopy(cfg.param_scheduler)]
    lrs = []
    for _ in range(iters):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def test_linear_warmup_then_poly():
    cfg = Config.fromfile(str(CONFIGS / 'deeplabv3plus/r50_512x512_voc_warmup.py'))
    lrs = lr_curve(cfg, 1201)
    assert lrs[0] == pytest.approx(0.01 * 1e-3)
    # mmengine's LinearLR reaches the full rate at its last iteration (end - 1 = 999)
    assert lrs[500] == pytest.approx(0.01 * (1e-3 + (1 - 1e-3) * 500 / 999))
    assert lrs[999] == lrs[1000] == pytest.approx(0.01)  # then poly starts from the full rate
    poly_1200 = (0.01 - 1e-4) * (1 - 200 / 39000) ** 0.9 + 1e-4
    assert lrs[1200] == pytest.approx(poly_1200)
    assert all(a < b for a, b in zip(lrs[:999], lrs[1:1000]))


def test_accumulation_config_reaches_batch_16_with_the_same_updates():
    base = Config.fromfile(str(CONFIGS / 'deeplabv3plus/r50_512x512_voc.py'))
    cfg = Config.fromfile(str(CONFIGS / 'deeplabv3plus/r50_512x512_voc_1xb4_accum4.py'))
    assert cfg.train_dataloader.batch_size * cfg.optim_wrapper.accumulative_counts == 16
    assert cfg.auto_scale_lr.base_batch_size == 16
    updates = cfg.train_cfg.max_iters // cfg.optim_wrapper.accumulative_counts
    assert updates == base.train_cfg.max_iters and cfg.param_scheduler[0].end == cfg.train_cfg.max_iters


def test_frozen_bn_keeps_statistics_and_affine_fixed():
    bn = FrozenBatchNorm2d(3)
    bn.running_mean.fill_(1.0)
    bn.train()
    x = torch.randn(4, 3, 5, 5) * 3 + 7
    out = bn(x)
    assert not bn.training and list(bn.parameters()) == []
    assert torch.equal(bn.running_mean, torch.ones(3))  # no update in "train" mode
    assert torch.allclose(out, (x - 1) / torch.sqrt(torch.tensor(1 + 1e-5)), atol=1e-5)


def test_frozen_bn_model_loads_a_bn_checkpoint():
    trained = MODELS.build(tiny_deeplabv3plus(aux=False))
    for m in trained.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight)
            m.running_var.uniform_(0.5, 2)
    cfg = tiny_deeplabv3plus(aux=False)
    cfg['backbone']['norm_cfg'] = cfg['decode_head']['norm_cfg'] = dict(type='FrozenBN')
    frozen = MODELS.build(cfg)
    frozen.load_state_dict(trained.state_dict(), strict=True)
    frozen.train()
    norms = [m for m in frozen.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(isinstance(m, FrozenBatchNorm2d) and not m.training for m in norms)
    trained.eval()
    x = torch.randn(1, 3, 32, 32)
    # the same function, statistics from the checkpoint (a tolerance for thread-count-dependent rounding)
    torch.testing.assert_close(frozen(x), trained(x), rtol=1e-3, atol=1e-4)
    assert sum(p.numel() for m in norms for p in m.parameters()) == 0  # nothing for the optimizer


def _thin_model(cfg):
    """The config's segmentor with a thin ResNet-50 (8 base channels), output stride and rates as configured."""
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.update(depth=50, stem_channels=8, base_channels=8, init_cfg=None)
    model_cfg.decode_head.update(in_channels=256, channels=8)
    if 'low_level_in_channels' in model_cfg.decode_head:
        model_cfg.decode_head.update(low_level_in_channels=32, low_level_channels=4)
    return MODELS.build(model_cfg)


def _aspp_rates(model):
    return tuple(branch.conv.dilation[0] if hasattr(branch, 'conv') else branch.depthwise_conv.conv.dilation[0]
                 for branch in model.decode_head.aspp.branches)


@pytest.mark.parametrize('family', ['deeplabv3', 'deeplabv3plus'])
def test_two_stage_voc_configs(family):
    stage1 = Config.fromfile(str(CONFIGS / family / 'r101_513x513_voc_paper.py'))
    stage2 = Config.fromfile(str(CONFIGS / family / 'r101_513x513_voctrainval_os8_paper.py'))
    assert stage1.train_dataloader.dataset.ann_file.endswith('aug.txt')
    assert stage2.train_dataloader.dataset.ann_file.endswith('trainval.txt')
    assert stage2.train_dataloader.dataset.data_prefix.seg_map_path == 'SegmentationClass'
    assert stage1.model.output_stride == 16 and stage2.model.output_stride == 8
    first, second = _thin_model(stage1), _thin_model(stage2)
    assert _aspp_rates(first) == (1, 6, 12, 18)
    assert _aspp_rates(second) == (1, 12, 24, 36)  # rates doubled with the output stride
    x = torch.randn(1, 3, 64, 64)
    first.eval(), second.eval()
    assert first.extract_feat(x)[-1].shape[-2:] == (4, 4) and second.extract_feat(x)[-1].shape[-2:] == (8, 8)
    assert stage2.model.backbone.norm_cfg.type == stage2.model.decode_head.norm_cfg.type == 'FrozenBN'
    assert stage1.model.backbone.norm_cfg.type != 'FrozenBN'
    assert stage2.optim_wrapper.optimizer.lr == 0.001 and stage1.optim_wrapper.optimizer.lr == 0.007
    assert stage2.load_from == f'work_dirs/{Path(stage1.filename).stem}/iter_{stage1.train_cfg.max_iters}.pth'


def train_tiny(tmp_path, name, extra, flag=True):
    from test_train_tools import train_tool, write_config  # the tiny Shapes training config of the tool tests
    work = tmp_path / name
    args = [write_config(tmp_path, iters=1, extra=extra), '--work-dir', str(work)]
    train_tool.main(args + (['--auto-scale-lr'] if flag else []))
    log = next(work.rglob('*.log')).read_text()
    return safe_load(str(work / 'iter_1.pth'))['optimizer']['param_groups'][0]['lr'], log


def test_auto_scale_lr_counts_devices_batch_and_accumulation(tmp_path):
    # the tiny config: batch 2 on one process, 2 accumulated steps, SGD lr 0.01 held constant, written for 16
    extra = ("param_scheduler = []\nauto_scale_lr = dict(enable=False, base_batch_size=16)\n"
             "optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01),\n"
             "                     accumulative_counts=2)\n"
             "val_dataloader = val_cfg = val_evaluator = None\n"  # only the learning rate matters here
             "default_hooks.update(visualization=dict(draw=False))\n")
    lr, log = train_tiny(tmp_path, 'accum', extra)
    assert lr == pytest.approx(0.01 * 2 * 2 / 16) and 'Scaling the original LR by 0.25' in log
    with pytest.raises(KeyError, match='base_batch_size'):
        train_tiny(tmp_path, 'missing', extra.replace('base_batch_size=16', 'base_batch_size=None'))
