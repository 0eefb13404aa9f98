import numpy as np
import pytest
import torch
from mmengine.config import Config

from segkit.apis import inference_model, init_model, show_result
from tests.helpers import tiny_deeplabv3plus

REPO_CONFIG = 'configs/deeplabv3plus/r18_96x96_shapes.py'


@pytest.fixture
def config():
    cfg = Config.fromfile(REPO_CONFIG)
    cfg.model = Config(dict(model=tiny_deeplabv3plus(num_classes=6))).model
    return cfg


def test_init_inference_and_overlay(config, tmp_path):
    import cv2
    model = init_model(config, device='cpu')
    assert model.dataset_meta['classes'][1] == 'disk'  # from the config's dataset
    image = np.random.default_rng(0).integers(0, 255, (37, 50, 3), dtype=np.uint8)
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), image)
    from_path = inference_model(model, str(path))
    from_array = inference_model(model, image)
    assert from_path.pred_sem_seg.shape == (37, 50)
    assert from_path.seg_logits.data.shape == (6, 37, 50)
    assert torch.allclose(from_path.seg_logits.data, from_array.seg_logits.data, atol=1e-5)
    both = inference_model(model, [str(path), image])
    assert len(both) == 2
    overlay = show_result(model, str(path), from_path, out_file=str(tmp_path / 'overlay.png'))
    assert overlay.shape == (37, 50, 3) and (tmp_path / 'overlay.png').exists()


def test_checkpoint_round_trip_gives_same_prediction(config, tmp_path):
    model = init_model(config)
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': list('abcdef')}}},
               tmp_path / 'm.pth')
    again = init_model(config, str(tmp_path / 'm.pth'))
    assert again.dataset_meta['classes'] == list('abcdef')
    image = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    assert torch.equal(inference_model(model, image).pred_sem_seg.data, inference_model(again, image).pred_sem_seg.data)
