import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS

from tests.helpers import randomise_bn, tiny_deeplabv3plus


def run(model, path):
    load = Compose([dict(type='LoadImageFromFile'), dict(type='PackSegInputs')])
    return model.test_step(pseudo_collate([load(dict(img_path=str(path)))]))[0]


def _in_model_tta(segmentor, **tta):
    model = MODELS.build(dict(tiny_deeplabv3plus(), test_cfg=dict(mode='whole', tta=tta))).eval()
    model.load_state_dict(segmentor.state_dict())
    return model


def test_flip_tta_averages_the_unflipped_probabilities(tmp_path):
    torch.manual_seed(0)
    segmentor = MODELS.build(tiny_deeplabv3plus()).eval()
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), image)

    single = run(_in_model_tta(segmentor, scales=[1.0], flip=False), path)
    plain = run(segmentor, path)
    assert torch.equal(single.pred_sem_seg.data, plain.pred_sem_seg.data)

    flipped_path = tmp_path / 'flipped.png'
    cv2.imwrite(str(flipped_path), image[:, ::-1])
    mirrored = run(segmentor, flipped_path)
    expected = (plain.seg_logits.data.softmax(0) + mirrored.seg_logits.data.flip(-1).softmax(0)) / 2
    both = run(_in_model_tta(segmentor, scales=[1.0], flip=True), path)
    assert torch.allclose(both.seg_logits.data.exp(), expected, atol=1e-5)
    assert torch.equal(both.pred_sem_seg.data[0], expected.argmax(0))


def test_multiscale_tta_returns_original_size(tmp_path):
    torch.manual_seed(0)
    segmentor = MODELS.build(tiny_deeplabv3plus()).eval()
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), np.random.default_rng(1).integers(0, 255, (37, 45, 3), dtype=np.uint8))
    out = run(_in_model_tta(segmentor, scales=[0.5, 1.0, 1.5], flip=True), path)
    assert out.pred_sem_seg.shape == (37, 45) and out.seg_logits.data.shape == (3, 37, 45)


def test_an_mmsegmentation_tta_pipeline_runs_as_in_model_tta():
    """MMSegmentation's tta_pipeline (TestTimeAug: Resize by scale_factor, RandomFlip 0/1) is read as the scales and
    flips of the one TTA implementation; what it cannot express is refused, and the pipeline flag is gone."""
    from mmengine.config import Config

    from segkit.models.inference.switches import enable_tta, tta_from_config
    ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    mmseg = Config(dict(model=dict(type='EncoderDecoder'), tta_pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in ratios],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]))
    assert tta_from_config(mmseg) == (tuple(ratios), True)
    enable_tta(mmseg)
    assert mmseg.model.test_cfg.tta == dict(scales=ratios, flip=True)
    no_flip = Config(dict(tta_pipeline=[dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale_factor=2.0, keep_ratio=True)], [dict(type='RandomFlip', prob=0.)]])]))
    assert tta_from_config(no_flip) == ((2.0, ), False)
    fixed = Config(dict(tta_pipeline=[dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(512, 512), keep_ratio=True)]])]))
    with pytest.raises(ValueError, match='tta_scales'):
        tta_from_config(fixed)
    with pytest.raises(KeyError, match='tta_scales'):
        tta_from_config(Config(dict(model=dict())))


def test_in_model_multiscale_flip_tta_averages_every_view():
    torch.manual_seed(0)
    segmentor = randomise_bn(MODELS.build(tiny_deeplabv3plus())).eval()
    x = torch.randn(1, 3, 37, 45)
    scales = (0.5, 1.0, 1.5)
    probs = []
    with torch.no_grad():
        for s in scales:
            size = (round(37 * s), round(45 * s))
            view = torch.nn.functional.interpolate(x, size=size, mode='bilinear', align_corners=False)
            for mirror in (False, True):
                v = view.flip(-1) if mirror else view
                logits = segmentor.encode_decode(v, [dict(img_shape=size, ori_shape=size, pad_shape=size)])
                logits = logits.flip(-1) if mirror else logits
                logits = torch.nn.functional.interpolate(logits, size=(37, 45), mode='bilinear', align_corners=False)
                probs.append(logits.softmax(1))
        expected = torch.stack(probs).mean(0)
        model = _in_model_tta(segmentor, scales=scales, flip=True)
        meta = dict(img_shape=(37, 45), ori_shape=(37, 45), pad_shape=(37, 45))
        got = model.inference(x, [meta]).exp()
        no_flip = _in_model_tta(segmentor, scales=scales, flip=False).inference(x, [dict(meta)]).exp()
    assert got.shape == (1, 3, 37, 45)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(no_flip, torch.stack(probs[::2]).mean(0), atol=1e-5)
    assert not torch.allclose(no_flip, got, atol=1e-4)


def test_bad_tta_option_is_named():
    with pytest.raises(ValueError, match="test_cfg.tta.scale: unknown key. Did you mean 'scales'"):
        MODELS.build(dict(tiny_deeplabv3plus(), test_cfg=dict(tta=dict(scale=[1.0]))))
    with pytest.raises(ValueError, match='test_cfg.tta.scales'):
        MODELS.build(dict(tiny_deeplabv3plus(), test_cfg=dict(tta=dict(scales=[0.0, 1.0]))))
