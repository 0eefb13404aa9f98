import copy

import cv2
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS

from tests.helpers import tiny_deeplabv3plus


def tta_pipeline(scales, flips):
    return Compose([
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale_factor=s, keep_ratio=True) for s in scales],
            [dict(type='RandomFlip', prob=p, direction='horizontal') for p in flips],
            [dict(type='PackSegInputs')]]),
    ])


def run(model, pipeline, path):
    return model.test_step(pseudo_collate([pipeline(dict(img_path=str(path)))]))[0]


def test_flip_tta_averages_the_unflipped_probabilities(tmp_path):
    torch.manual_seed(0)
    segmentor = MODELS.build(tiny_deeplabv3plus()).eval()
    tta = MODELS.build(dict(type='SegTTAModel', module=copy.deepcopy(segmentor))).eval()
    tta.module.load_state_dict(segmentor.state_dict())
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), image)

    single = run(tta, tta_pipeline([1.0], [0.0]), path)
    plain = segmentor.test_step(pseudo_collate([Compose([dict(type='LoadImageFromFile'), dict(type='PackSegInputs')])(
        dict(img_path=str(path)))]))[0]
    assert torch.equal(single.pred_sem_seg.data, plain.pred_sem_seg.data)

    flipped_path = tmp_path / 'flipped.png'
    cv2.imwrite(str(flipped_path), image[:, ::-1])
    mirrored = segmentor.test_step(pseudo_collate([Compose([dict(type='LoadImageFromFile'),
                                                            dict(type='PackSegInputs')])(
        dict(img_path=str(flipped_path)))]))[0]
    expected = (plain.seg_logits.data.softmax(0) + mirrored.seg_logits.data.flip(-1).softmax(0)) / 2
    both = run(tta, tta_pipeline([1.0], [0.0, 1.0]), path)
    assert torch.allclose(both.seg_logits.data.exp(), expected, atol=1e-5)
    assert torch.equal(both.pred_sem_seg.data[0], expected.argmax(0))


def test_multiscale_tta_returns_original_size(tmp_path):
    torch.manual_seed(0)
    tta = MODELS.build(dict(type='SegTTAModel', module=tiny_deeplabv3plus())).eval()
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), np.random.default_rng(1).integers(0, 255, (37, 45, 3), dtype=np.uint8))
    out = run(tta, tta_pipeline([0.5, 1.0, 1.5], [0.0, 1.0]), path)
    assert out.pred_sem_seg.shape == (37, 45) and out.seg_logits.data.shape == (3, 37, 45)
