"""Configs name no file outside the repository: data under data/, pretrained files under $SEGKIT_WEIGHTS."""
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
CAMVID_V3PLUS = str(REPO / 'configs/deeplabv3plus/mobilenetv2_256x256_camvid.py')
VGG_CAMVID = str(REPO / 'configs/deeplabv1/vgg16_largefov_321x321_camvid.py')
XCEPTION_VOC = str(REPO / 'configs/deeplabv3plus/xception65_512x512_voc.py')


def test_no_config_points_outside_the_repository():
    offenders = [str(path.relative_to(REPO)) for path in sorted((REPO / 'configs').rglob('*.py'))
                 if '../shared' in path.read_text() or "'/" in path.read_text()]
    assert offenders == []


def test_pretrained_files_come_from_the_weights_directory(monkeypatch, tmp_path):
    monkeypatch.setenv('SEGKIT_WEIGHTS', str(tmp_path))  # through the _base_ chain of each config
    assert Config.fromfile(CAMVID_V3PLUS).model.backbone.init_cfg.checkpoint == \
        f'{tmp_path}/mobilenet_v2-b0353104.pth'
    vgg = Config.fromfile(VGG_CAMVID).model
    assert vgg.backbone.init_cfg.checkpoint == vgg.decode_head.fc_checkpoint == f'{tmp_path}/vgg16-397923af.pth'
    assert Config.fromfile(XCEPTION_VOC).model.backbone.init_cfg.checkpoint == \
        f'{tmp_path}/xception65.tf_in1k/model.safetensors'


def test_weights_directory_defaults_to_checkpoints_and_cfg_options_win(monkeypatch):
    monkeypatch.delenv('SEGKIT_WEIGHTS', raising=False)
    cfg = Config.fromfile(CAMVID_V3PLUS)
    assert cfg.model.backbone.init_cfg.checkpoint == 'checkpoints/mobilenet_v2-b0353104.pth'
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': '/elsewhere/mbv2.pth'})
    assert cfg.model.backbone.init_cfg.checkpoint == '/elsewhere/mbv2.pth'


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_camvid_is_read_from_data_camvid(split):
    cfg = Config.fromfile(CAMVID_V3PLUS)
    assert cfg.data_root == cfg[f'{split}_dataloader'].dataset.data_root == 'data/camvid'
