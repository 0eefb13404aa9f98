import copy

import pytest
import torch
from mmengine.registry import MODELS

from segkit.structures import SegDataSample
from tests.helpers import fake_batch, tiny_deeplabv3plus


def build(cfg=None, **test_cfg):
    cfg = copy.deepcopy(cfg or tiny_deeplabv3plus())
    if test_cfg:
        cfg['test_cfg'] = test_cfg
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_loss_mode_has_decode_and_aux_losses_that_backpropagate():
    model = build()
    data = model.data_preprocessor(fake_batch(), training=True)
    losses = model(**data, mode='loss')
    assert {'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce', 'aux.acc_seg'} <= set(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.backbone.stem[0].weight.grad is not None
    assert model.auxiliary_heads[0].classifier.weight.grad is not None


def test_predict_returns_labels_at_original_size_after_padding():
    model = build().eval()
    data = model.data_preprocessor(fake_batch(size=(37, 45)), training=False)
    assert data['inputs'].shape[-2:] == (40, 48)  # padded to the size divisor
    out = model(**data, mode='predict')
    assert out[0].pred_sem_seg.shape == (37, 45)
    assert out[0].seg_logits.data.shape == (3, 37, 45)
    assert torch.equal(out[0].pred_sem_seg.data[0], out[0].seg_logits.data.argmax(0))


def test_predict_resizes_to_ori_shape_when_the_test_pipeline_resized():
    model = build().eval()
    batch = fake_batch(n=1, size=(32, 32))
    batch['data_samples'][0].set_metainfo(dict(ori_shape=(64, 80)))
    out = model(**model.data_preprocessor(batch), mode='predict')
    assert out[0].pred_sem_seg.shape == (64, 80)


def test_slide_inference_matches_whole_when_one_window_covers_the_image():
    whole = build().eval()
    slide = build(mode='slide', crop_size=(40, 48), stride=(20, 24)).eval()
    slide.load_state_dict(whole.state_dict())
    data = whole.data_preprocessor(fake_batch(n=1), training=False)
    metas = [s.metainfo for s in data['data_samples']]
    with torch.no_grad():
        a = whole.inference(data['inputs'], metas)
        b = slide.inference(data['inputs'], [dict(m) for m in metas])
    assert torch.allclose(a, b, atol=1e-5)


def test_slide_inference_covers_every_pixel_with_overlapping_windows():
    model = build(mode='slide', crop_size=(24, 24), stride=(16, 16)).eval()
    calls = []
    original = model.encode_decode

    def spy(inputs, metas):
        calls.append(tuple(inputs.shape[-2:]))
        return original(inputs, metas)

    model.encode_decode = spy
    data = model.data_preprocessor(fake_batch(n=1, size=(40, 56)), training=False)
    with torch.no_grad():
        logits = model.inference(data['inputs'], [s.metainfo for s in data['data_samples']])
    assert logits.shape == (1, 3, 40, 56)
    assert len(calls) == 2 * 3 and set(calls) == {(24, 24)}
    assert torch.isfinite(logits).all()


def test_bad_test_cfg_is_rejected():
    with pytest.raises(ValueError, match='slide'):
        build(mode='slide')
    with pytest.raises(ValueError, match="'whole' or 'slide'"):
        build(mode='tiles')


def test_tensor_mode_and_default_predict_without_samples():
    model = build().eval()
    x = torch.randn(1, 3, 32, 32)
    assert model(x, mode='tensor').shape == (1, 3, 8, 8)  # the v3+ decoder works at stride 4
    out = model.predict(x)
    assert isinstance(out[0], SegDataSample) and out[0].pred_sem_seg.shape == (32, 32)


def test_model_overfits_one_batch():
    model = build(tiny_deeplabv3plus(aux=False))
    batch = fake_batch(n=2, size=(32, 32))
    for s in batch['data_samples']:  # a learnable target: left half class 1, right half class 2
        s.gt_sem_seg.data[:, :, :16] = 1
        s.gt_sem_seg.data[:, :, 16:] = 2
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(25):
        data = model.data_preprocessor(copy.deepcopy(batch), training=True)
        loss = model(**data, mode='loss')['decode.loss_ce']
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * first


def test_channels_last_model_matches_default_layout():
    cfg = tiny_deeplabv3plus()
    reference = build(cfg).eval()
    cfg = copy.deepcopy(cfg)
    cfg['channels_last'] = True
    fast = build(cfg).eval()
    fast.load_state_dict(reference.state_dict())
    assert fast.backbone.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(reference(x, mode='tensor'), fast(x, mode='tensor'), atol=1e-5)
    data = fast.data_preprocessor(fake_batch(), training=True)
    layouts = []
    fast.backbone.stem[0].register_forward_pre_hook(
        lambda module, args: layouts.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    assert torch.isfinite(fast.train()(**data, mode='loss')['decode.loss_ce'])
    assert layouts == [True]  # training runs channels-last too: one switch for both


def test_bfloat16_autocast_inference_is_close_to_float32():
    reference = build().eval()
    fast = build(mode='whole', autocast='bfloat16').eval()
    fast.load_state_dict(reference.state_dict())
    data = reference.data_preprocessor(fake_batch(n=1), training=False)
    metas = [s.metainfo for s in data['data_samples']]
    with torch.no_grad():
        a = reference.inference(data['inputs'], metas)
        b = fast.inference(data['inputs'], [dict(m) for m in metas])
    assert b.dtype == torch.float32
    assert not torch.equal(a, b)  # it really ran in bfloat16
    assert torch.allclose(a, b, atol=0.05 * a.abs().max().item())
    with pytest.raises(ValueError, match='autocast'):
        build(mode='whole', autocast='int8')
