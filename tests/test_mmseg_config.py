"""MMSegmentation 1.x configs read unchanged: the translation (segkit/mmseg_config.py) maps their vocabulary onto
segkit's, segkit's own configs are untouched, what segkit cannot honour is refused by name."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from segkit.mmseg_config import MMSegConfigError, is_mmseg_config, translate_mmseg_config
from segkit.registry import MODELS
from tests.helpers import fake_batch, tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]
MMSEG_CONFIGS = REPO / 'tests' / 'fixtures' / 'mmseg_configs'
sys.path.insert(0, str(REPO / 'tools' / 'misc'))
import mmseg_config_status  # noqa: E402

SYNC = dict(type='SyncBN', requires_grad=True)


def mmseg_v3plus(**backbone):
    """MMSegmentation's _base_/models/deeplabv3plus_r50-d8.py model, as its configs write it."""
    return Config(dict(default_scope='mmseg', model=dict(
        type='EncoderDecoder', pretrained='open-mmlab://resnet50_v1c',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
        backbone=dict(dict(type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), dilations=(1, 1, 2, 4),
                           strides=(1, 2, 1, 1), norm_cfg=SYNC, norm_eval=False, style='pytorch',
                           contract_dilation=True), **backbone),
        decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=2048, in_index=3, channels=512,
                         dilations=(1, 12, 24, 36), c1_in_channels=256, c1_channels=48, dropout_ratio=0.1,
                         num_classes=19, norm_cfg=SYNC, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        auxiliary_head=dict(type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1,
                            concat_input=False, dropout_ratio=0.1, num_classes=19, norm_cfg=SYNC,
                            align_corners=False,
                            loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        train_cfg=dict(), test_cfg=dict(mode='whole')),
        tta_model=dict(type='SegTTAModel'),
        visualizer=dict(type='SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')], name='visualizer')))


def test_mmseg_vocabulary_becomes_segkit_vocabulary():
    cfg = mmseg_v3plus()
    assert is_mmseg_config(cfg) and translate_mmseg_config(cfg)
    model = cfg.model
    assert cfg.default_scope == 'segkit' and 'pretrained' not in model and 'tta_model' not in cfg
    assert model.backbone.init_cfg == dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')
    assert 'style' not in model.backbone and model.backbone.contract_dilation is True
    head = model.decode_head
    assert (head.low_level_in_channels, head.low_level_channels, head.project_kernel_size) == (256, 48, 3)
    assert 'c1_in_channels' not in head and 'use_sigmoid' not in head.loss_decode
    assert model.auxiliary_head.loss_decode == dict(type='CrossEntropyLoss', loss_weight=0.4)
    assert cfg.visualizer.type == 'Visualizer' and 'name' not in cfg.visualizer


def test_resnet_v1b_multi_grid_and_mobilenet_forms():
    v1b = mmseg_v3plus(type='mmseg.ResNet', depth=18)
    translate_mmseg_config(v1b)
    assert v1b.model.backbone.type == 'ResNetV1b'
    grid = mmseg_v3plus(multi_grid=(1, 2, 4), dilations=(1, 1, 1, 2), strides=(1, 2, 2, 1))
    translate_mmseg_config(grid)
    assert grid.model.backbone.multi_grid_mode == 'absolute'
    mobile = mmseg_v3plus()
    mobile.model.backbone = dict(type='MobileNetV2', widen_factor=1., strides=(1, 2, 2, 1, 1, 1, 1),
                                 dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6), norm_cfg=SYNC)
    translate_mmseg_config(mobile)
    assert mobile.model.backbone.dilate_first_block_only is True


def mmseg_binary(**decode_head):
    """MMSegmentation's binary form: num_classes=2, out_channels=1, binary cross-entropy."""
    cfg = mmseg_v3plus()
    cfg.model.decode_head.update(num_classes=2, out_channels=1, **decode_head)
    cfg.model.decode_head.loss_decode = dict(type='mmseg.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)
    cfg.model.auxiliary_head.update(num_classes=2, threshold=0.7)
    return cfg


def test_mmseg_binary_head_and_threshold_become_num_classes_1_and_test_cfg():
    cfg = mmseg_binary(threshold=0.4)
    translate_mmseg_config(cfg)
    head = cfg.model.decode_head
    assert head.num_classes == 1 and 'out_channels' not in head and 'threshold' not in head
    assert head.loss_decode == dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)
    assert cfg.model.test_cfg == dict(mode='whole', threshold=0.4)
    assert 'threshold' not in cfg.model.auxiliary_head  # MMSegmentation predicts with the decode head only
    default = mmseg_binary()
    translate_mmseg_config(default)
    assert default.model.test_cfg.threshold == 0.3  # MMSegmentation's default for out_channels=1
    clash = mmseg_binary(threshold=0.4)
    clash.model.test_cfg.threshold = 0.6
    with pytest.raises(MMSegConfigError, match='decode_head.threshold=0.4 and model.test_cfg.threshold=0.6'):
        translate_mmseg_config(clash)
    odd = mmseg_binary()
    odd.model.decode_head.out_channels = 3
    with pytest.raises(MMSegConfigError, match='out_channels=3 with num_classes=2'):
        translate_mmseg_config(odd)


def test_translated_binary_head_trains_with_binary_cross_entropy():
    cfg = mmseg_binary(threshold=0.4)
    translate_mmseg_config(cfg)  # its head's loss and test_cfg, on a tiny network
    model_cfg = tiny_deeplabv3plus(num_classes=cfg.model.decode_head.num_classes, aux=False)
    model_cfg['decode_head']['loss_decode'] = cfg.model.decode_head.loss_decode
    model_cfg['test_cfg'] = cfg.model.test_cfg
    model = MODELS.build(model_cfg)
    assert model.inference_options.binary_threshold == 0.4
    losses = model.loss(**model.data_preprocessor(fake_batch(num_classes=2), True))
    assert torch.isfinite(losses['decode.loss_ce']) and losses['decode.loss_ce'] > 0


def test_visualization_hook_arguments_of_mmseg():
    cfg = mmseg_v3plus()
    cfg.default_hooks = dict(visualization=dict(type='SegVisualizationHook', draw=True, wait_time=2, show=False))
    translate_mmseg_config(cfg)
    assert cfg.default_hooks.visualization == dict(type='SegVisualizationHook', draw=True, out_dir='vis_data')
    shown = mmseg_v3plus()
    shown.default_hooks = dict(visualization=dict(type='SegVisualizationHook', show=True))
    with pytest.raises(MMSegConfigError, match='show=True'):
        translate_mmseg_config(shown)


@pytest.mark.parametrize('change, message', [
    (dict(style='caffe'), "model.backbone.style='caffe'.*style='pytorch'"),
    (dict(type='ResNetV1d'), "ResNetV1d.*not implemented"),
    (dict(init_cfg=dict(type='Pretrained', checkpoint='x.pth')), 'model.pretrained and model.backbone.init_cfg'),
])
def test_what_segkit_cannot_honour_is_refused_by_name(change, message):
    with pytest.raises(MMSegConfigError, match=message):
        translate_mmseg_config(mmseg_v3plus(**change))


def test_segkit_configs_are_left_as_they_are():
    for path in sorted((REPO / 'configs').rglob('*.py')):
        if '_base_' in path.parts:
            continue
        cfg = Config.fromfile(str(path))
        before = copy.deepcopy(cfg.to_dict())
        assert not translate_mmseg_config(cfg), path
        assert cfg.to_dict() == before


def test_the_translation_is_logged_once_per_config(monkeypatch):
    import segkit.mmseg_config as module
    lines = []
    monkeypatch.setattr(module, 'print_log', lambda message, **kwargs: lines.append(message))
    translate_mmseg_config(mmseg_v3plus(), 'x.py')
    assert len(lines) == 1 and lines[0].startswith('read x.py as an MMSegmentation 1.x config: ')
    assert 'model.pretrained -> model.backbone.init_cfg' in lines[0]
    translate_mmseg_config(Config(dict(model=dict(type='EncoderDecoder'))), 'segkit.py')
    assert len(lines) == 1  # segkit's own configs: nothing to say


def _committed_mmseg_configs():
    return sorted(p for p in MMSEG_CONFIGS.rglob('*.py') if '_base_' not in p.parts)


@pytest.mark.parametrize('path', _committed_mmseg_configs(), ids=lambda p: p.name)
def test_committed_mmseg_configs_build_unchanged(path):
    """Copies of representative MMSegmentation 1.2.2 configs (with their _base_ files, as MMSeg lays them out):
    model, datasets and pipelines build in segkit."""
    ok, what = mmseg_config_status.check_config(str(path))
    assert ok, what


@pytest.mark.skipif(mmseg_config_status.default_configs_dir() is None,
                    reason="MMSegmentation's configs are not here (pip install mmsegmentation, or "
                           'bash ../shared/peers/setup_mmseg_venv.sh)')
def test_all_96_mmseg_deeplab_configs_build():
    rows = mmseg_config_status.main([])
    failed = [(name, what) for name, ok, what in rows if not ok]
    assert len(rows) == 96 and failed == []
