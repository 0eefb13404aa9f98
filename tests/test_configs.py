"""Every config under configs/ builds its model, datasets and pipelines without any data present."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS, TRANSFORMS

from segkit.engine.config_setup import replace_sync_bn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools' / 'misc'))
from mmseg_config_status import dataset_pipelines, lazy_dataset  # noqa: E402  (one source for both)

CONFIGS = sorted(p for p in (Path(__file__).resolve().parents[1] / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)


def test_the_issue_configs_exist():
    names = {str(p.relative_to(p.parents[1])) for p in CONFIGS}
    assert {'deeplabv3plus/r101_512x512_voc.py', 'deeplabv3plus/r50_512x512_voc.py', 'deeplabv3/r101_512x512_voc.py',
            'deeplabv3plus/r101_512x1024_cityscapes.py'} <= names
    # issue 6: aligned Xception
    assert {'deeplabv3plus/xception65_512x512_voc.py', 'deeplabv3plus/xception65_512x1024_cityscapes.py',
            'torchvision/deeplabv3_r50_torchvision.py', 'torchvision/deeplabv3_r101_torchvision.py',
            'torchvision/deeplabv3_mobilenetv3_large_torchvision.py'} <= names
    # issue 5: DeepLab v1 and v2, paper forms and the CamVid family comparison on MobileNetV2
    assert {'deeplabv1/vgg16_largefov_321x321_voc.py', 'deeplabv2/vgg16_aspp-l_321x321_voc.py',
            'deeplabv2/r101_aspp-l_321x321_voc.py', 'deeplabv1/vgg16_largefov_321x321_camvid.py',
            'deeplabv2/vgg16_aspp-l_321x321_camvid.py', 'deeplabv1/mobilenetv2_largefov_256x256_camvid.py',
            'deeplabv2/mobilenetv2_aspp-l_256x256_camvid.py', 'deeplabv3/mobilenetv2_256x256_camvid.py',
            'deeplabv3plus/mobilenetv2_256x256_camvid.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_config_builds(path, tmp_path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'segkit'
    model_cfg = replace_sync_bn(copy.deepcopy(cfg.model))
    model_cfg.backbone.pop('init_cfg', None)  # no ImageNet file needed to check the structure
    model = MODELS.build(model_cfg)
    assert model.num_classes == model_cfg.decode_head.num_classes
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[loader].dataset
        dataset = DATASETS.build(lazy_dataset(dataset_cfg))
        assert dataset is not None
        for pipeline in dataset_pipelines(dataset_cfg):
            for step in pipeline:
                TRANSFORMS.build(step)
    for step in cfg.get('tta_pipeline', []):
        TRANSFORMS.build(step)
    # the head predicts as many classes as the dataset has
    dataset = DATASETS.build(lazy_dataset(cfg.val_dataloader.dataset))
    classes = dataset.metainfo.get('classes')
    assert classes is None or len(classes) == model.num_classes


def _model_cfg(path):
    cfg = Config.fromfile(str(path))
    model_cfg = replace_sync_bn(copy.deepcopy(cfg.model))
    model_cfg.backbone.pop('init_cfg', None)
    model_cfg.decode_head.pop('fc_checkpoint', None)  # LargeFOVHead's ImageNet fc6/fc7
    return model_cfg


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_config_sets_its_output_stride_in_one_place(path):
    """model.output_stride, the one key tools/test.py --output-stride switches; not the backbone's own keys."""
    model_cfg = _model_cfg(path)
    assert model_cfg.get('output_stride') in (8, 16, 32)
    assert not {'output_stride', 'strides', 'dilations'} & set(model_cfg.backbone)


@pytest.mark.parametrize('output_stride', [8, 16])
@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_model_output_stride_switches_every_config(path, output_stride):
    """--output-stride 8 / 16 (model.output_stride) builds every shipped config and its features follow (on the
    meta device: shapes without the cost of initialising and running the full-size networks)."""
    model_cfg = _model_cfg(path)
    model_cfg.output_stride = output_stride
    bands = model_cfg.backbone.get('in_channels', 3)  # the multi-band example config takes 4
    with torch.device('meta'):
        model = MODELS.build(model_cfg).eval()
        assert model.backbone.output_stride == output_stride
        feats = model.backbone(torch.empty(1, bands, 64, 64))
        logits = model(torch.empty(1, bands, 64, 64), mode='tensor')
    assert feats[-1].shape[-1] == 64 // output_stride
    assert logits.shape[:2] == (1, model.num_classes)


def test_cfg_options_override(tmp_path):
    from segkit.engine.config_setup import load_config
    cfg = load_config('configs/deeplabv3plus/r50_512x512_voc.py',
                      {'model.decode_head.num_classes': 5, 'train_cfg.max_iters': 7})
    assert cfg.model.decode_head.num_classes == 5 and cfg.train_cfg.max_iters == 7


def test_missing_config_error_names_the_file():
    from segkit.engine.config_setup import load_config
    with pytest.raises(FileNotFoundError, match='configs/nope.py'):
        load_config('configs/nope.py')


@pytest.mark.parametrize('in_base', [False, True], ids=['config', 'its _base_'])
def test_config_syntax_error_names_the_file_and_line(tmp_path, in_base):
    """mmengine parses the text as "<unknown>"; the error names the config (or the _base_ at fault) and line."""
    from segkit.engine.config_setup import load_config
    bad = tmp_path / 'bad.py'
    bad.write_text("model = dict(\n    type='EncoderDecoder',\n    output_stride=16 backbone=None)\n")
    top = tmp_path / 'top.py'
    top.write_text("_base_ = ['./bad.py']\nx = 1\n" if in_base else bad.read_text())
    with pytest.raises(SyntaxError) as err:
        load_config(str(top))
    culprit = bad if in_base else top
    assert err.value.filename == str(culprit) and err.value.lineno == 3
    message = str(err.value)
    assert f'config {culprit}' in message and 'line 3' in message and 'Fix that line' in message
    assert ('a _base_ of' in message) == in_base and '<unknown>' not in message
