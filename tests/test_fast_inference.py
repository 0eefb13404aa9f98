"""Inference speed options (test_cfg fuse_bn / compile / backend, model.channels_last): same logits as the plain
eager model."""
import copy

import pytest
import torch
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from segkit.models.inference import BackendOptions, InferenceOptions
from segkit.models.inference.fast_net import fold_batch_norms
from tests.helpers import BN, randomise_bn, tiny_deeplabv3plus

MOBILENET_V3PLUS = dict(
    type='EncoderDecoder',
    backbone=dict(type='MobileNetV2', widen_factor=0.25, strides=(1, 2, 2, 2, 1, 1, 1),
                  dilations=(1, 1, 1, 1, 1, 2, 2), out_indices=(1, 2, 4, 6), norm_cfg=BN),
    decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=80, in_index=3, channels=16,
                     dilations=(1, 2, 3), low_level_in_channels=8, low_level_channels=4, num_classes=4, norm_cfg=BN))


def check_speed_options(test_cfg):
    return InferenceOptions.from_test_cfg(test_cfg)


def _build(cfg, channels_last=False, **test_cfg):
    torch.manual_seed(0)
    cfg = copy.deepcopy(cfg)
    cfg['test_cfg'] = dict(mode='whole', **test_cfg)
    cfg['channels_last'] = channels_last
    model = MODELS.build(cfg)
    model.init_weights()
    return randomise_bn(model).eval()


def _logits(model, x):
    h, w = x.shape[-2:]
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))] * len(x)
    with torch.no_grad():
        return model.encode_decode(x, metas)


@pytest.mark.parametrize('cfg', [tiny_deeplabv3plus(num_classes=4, aux=False), MOBILENET_V3PLUS],
                         ids=['resnet18', 'mobilenetv2'])
@pytest.mark.parametrize('options', [dict(fuse_bn=True), dict(channels_last=True),
                                     dict(fuse_bn=True, channels_last=True)], ids=str)
def test_speed_options_keep_the_logits(cfg, options):
    x = torch.randn(2, 3, 48, 64)
    plain = _build(cfg)
    fast = _build(cfg, **options)
    fast.load_state_dict(plain.state_dict())
    expected, got = _logits(plain, x), _logits(fast, x)
    assert got.shape == expected.shape == (2, 4, 48, 64)
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4), (got - expected).abs().max()


@pytest.mark.parametrize('cfg', [tiny_deeplabv3plus(num_classes=4), MOBILENET_V3PLUS], ids=['resnet18', 'mobilenetv2'])
def test_fold_removes_every_batch_norm_of_the_shipped_parts(cfg):
    model = _build(cfg)
    net = copy.deepcopy(torch.nn.ModuleList([model.backbone, model.decode_head])).eval()
    bns = sum(isinstance(m, _BatchNorm) for m in net.modules())
    assert fold_batch_norms(net) == bns > 10
    assert not any(isinstance(m, _BatchNorm) for m in net.modules())


def test_fold_is_exact_per_layer_and_needs_eval_mode():
    conv_bn = randomise_bn(torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=2, dilation=2, bias=False),
                                               torch.nn.BatchNorm2d(5, eps=1e-3), torch.nn.ReLU()))
    x = torch.randn(1, 3, 9, 9)
    with pytest.raises(RuntimeError, match='eval mode'):
        fold_batch_norms(conv_bn)
    conv_bn.eval()
    expected = conv_bn(x)
    assert fold_batch_norms(conv_bn) == 1
    assert isinstance(conv_bn[1], torch.nn.Identity)
    assert torch.allclose(conv_bn(x), expected, atol=1e-5)


def test_fast_copy_follows_weight_changes_and_leaves_the_model_alone():
    cfg = tiny_deeplabv3plus(num_classes=4, aux=False)
    fast = _build(cfg, fuse_bn=True)
    keys = set(fast.state_dict())
    x = torch.randn(1, 3, 32, 32)
    first = _logits(fast, x)
    assert set(fast.state_dict()) == keys  # the fused copy is not a submodule
    assert any(isinstance(m, _BatchNorm) for m in fast.modules())  # the trained modules keep their BNs
    other = _build(cfg)
    other.decode_head.classifier.weight.data.mul_(3)
    fast.load_state_dict(other.state_dict())  # new weights: the copy must be rebuilt
    assert torch.allclose(_logits(fast, x), _logits(other, x), atol=1e-4)
    assert not torch.allclose(_logits(fast, x), first, atol=1e-3)
    fast.train()  # training never goes through the copy
    x2 = torch.randn(2, 3, 32, 32)
    losses = fast.decode_head.loss_by_logits(fast(x2), torch.zeros(2, 32, 32, dtype=torch.long))
    losses['loss_ce'].backward()
    assert fast.backbone.stem[0].weight.grad is not None


def test_bad_speed_options_are_named():
    with pytest.raises(ValueError, match='test_cfg.fuse_bn'):
        check_speed_options(dict(fuse_bn='yes'))
    with pytest.raises(ValueError, match='test_cfg.compile'):
        check_speed_options(dict(compile=3))
    assert not check_speed_options(dict(fuse_bn=False, compile=None, mode='whole')).copies_network


@pytest.mark.slow
def test_compiled_inference_matches_eager():
    cfg = tiny_deeplabv3plus(num_classes=4, aux=False)
    plain = _build(cfg)
    fast = _build(cfg, fuse_bn=True, compile=True)
    fast.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 32, 32)
    try:
        got = _logits(fast, x)
    except Exception as exc:  # Inductor on CPU needs a working C++ toolchain
        pytest.skip(f'torch.compile is not usable here: {type(exc).__name__}: {str(exc)[:200]}')
    assert torch.allclose(got, _logits(plain, x), atol=1e-4)
    assert fast.__dict__['_fast_net'].net.eager_reason is None  # it ran compiled
    for m in (fast, plain):  # a training step between two validations: the compiled copy follows it
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(0.9)
    assert torch.allclose(_logits(fast, x), _logits(plain, x), atol=1e-4)


PREPROCESSED = dict(MOBILENET_V3PLUS, data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.7, 116.3, 103.5],
                                                             std=[58.4, 57.1, 57.4], bgr_to_rgb=True))


def _trained_tiny_model(steps=150):
    """MOBILENET_V3PLUS fitted to images whose colour says the class of each rectangle, so its logits have real
    margins (random weights give near-ties that any rounding flips)."""
    g = torch.Generator().manual_seed(0)
    colours = torch.tensor([[0., 0., 0.], [1.5, 0., 0.], [0., 1.5, 0.], [0., 0., 1.5]])

    def batch(n=4, h=48, w=64):
        labels = torch.zeros(n, h, w, dtype=torch.long)
        for i in range(n):
            for _ in range(4):
                y, x = torch.randint(0, h - 12, (2, ), generator=g).tolist()
                labels[i, y:y + 12 + y % 9, x:x + 16 + x % 11] = torch.randint(1, 4, (1, ), generator=g)
        images = colours[labels].permute(0, 3, 1, 2) + 0.3 * torch.randn(n, 3, h, w, generator=g)
        return images, labels

    model = _build(PREPROCESSED).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    metas = [dict(img_shape=(48, 64), ori_shape=(48, 64), pad_shape=(48, 64))] * 4
    for _ in range(steps):
        images, labels = batch()
        loss = torch.nn.functional.cross_entropy(model.encode_decode(images, metas), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), batch


@pytest.mark.slow
def test_runtime_backends_agree_with_the_eager_model(tmp_path):
    """ONNX Runtime / OpenVINO fp32 give the eager logits; bf16 (torch autocast, OpenVINO) and int8 (NNCF, calibrated
    on images read from a folder through the data preprocessor) give the same classes on nearly every pixel."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('openvino')
    pytest.importorskip('nncf')
    import cv2
    trained, batch = _trained_tiny_model()
    images, labels = batch(n=2)
    expected = _logits(trained, images)
    assert (expected.argmax(1) == labels).float().mean() > 0.9  # it learned, so the margins are real
    calibration = tmp_path / 'calib'
    calibration.mkdir()
    mean, std = trained.data_preprocessor.mean.view(3, 1, 1), trained.data_preprocessor.std.view(3, 1, 1)
    for i, image in enumerate(batch(n=8)[0]):  # network inputs back to BGR uint8 files, as training images are
        rgb = (image * std + mean).clamp(0, 255).round().byte()
        cv2.imwrite(str(calibration / f'{i}.png'), rgb.flip(0).permute(1, 2, 0).numpy())
    cases = [(dict(backend=dict(type='onnxruntime')), 1e-4, 1.0), (dict(backend=dict(type='openvino')), 1e-4, 1.0),
             (dict(autocast='bfloat16', fuse_bn=True, channels_last=True), None, 0.99),
             (dict(backend=dict(type='openvino', precision='bf16')), None, 0.99),
             (dict(backend=dict(type='openvino', precision='int8', calibration=dict(images=str(calibration), num=8))),
              None, 0.97)]
    for options, atol, agreement in cases:
        model = _build(PREPROCESSED, **options)
        model.load_state_dict(trained.state_dict())
        got = _logits(model, images)
        assert got.shape == expected.shape
        if atol is not None:
            assert torch.allclose(got, expected, atol=atol, rtol=1e-4), (options, (got - expected).abs().max())
        else:
            assert not torch.equal(got, expected), options  # it really ran at another precision
        same = (got.argmax(1) == expected.argmax(1)).float().mean().item()
        assert same >= agreement, (options, same)
    assert _logits(model, torch.randn(1, 3, 40, 56)).shape == (1, 4, 40, 56)  # another shape: its own compile


def test_bad_backend_options_are_named():
    with pytest.raises(ValueError, match="backend.type must be one of"):
        check_speed_options(dict(backend='tensorrt'))
    with pytest.raises(ValueError, match="onnxruntime runs precision fp32"):
        check_speed_options(dict(backend=dict(type='onnxruntime', precision='int8')))
    with pytest.raises(ValueError, match="needs calibration=dict"):
        check_speed_options(dict(backend=dict(type='openvino', precision='int8')))
    with pytest.raises(ValueError, match='exclude each other'):
        check_speed_options(dict(backend='openvino', autocast='bfloat16'))
    assert check_speed_options(dict(backend='openvino')).backend == BackendOptions(type='openvino', precision='fp32')


COMPILES = []


def counting_backend(graph_module, example_inputs):
    """A torch.compile backend that counts dynamo's compiles and runs the captured graph as it is."""
    COMPILES.append(tuple(getattr(x, 'shape', x) for x in example_inputs))
    return graph_module.forward


def _sizes_logits(model, plain, sizes):
    for size in sizes:
        x = torch.randn(1, 3, *size)
        assert torch.allclose(_logits(model, x), _logits(plain, x), atol=1e-4), size


def test_compiled_inference_compiles_at_most_twice_whatever_the_image_sizes():
    """With dynamic=False every new size was a compile, and after torch._dynamo's recompile limit (8) the network
    ran eagerly without a word; now the second size compiles a graph with symbolic sizes that the rest reuse."""
    COMPILES.clear()
    cfg = tiny_deeplabv3plus(num_classes=4, aux=False)
    model, plain = _build(cfg, fuse_bn=True, compile=dict(backend=counting_backend)), _build(cfg)
    _sizes_logits(model, plain, [(32, 32), (40, 48), (48, 64), (56, 40), (64, 64), (24, 72)])
    assert len(COMPILES) <= 2, COMPILES


def test_compiled_inference_says_once_when_it_falls_back_to_eager(monkeypatch):
    import inspect

    import segkit.models.inference.fast_net as fast_net
    if 'recompile_limit' not in inspect.signature(torch.compile).parameters:
        pytest.skip('torch.compile(recompile_limit=...) needs a newer torch')
    COMPILES.clear()
    said = []
    monkeypatch.setattr(fast_net, 'print_log', lambda message, **kwargs: said.append(message))
    cfg = tiny_deeplabv3plus(num_classes=4, aux=False)
    model = _build(cfg, compile=dict(backend=counting_backend, dynamic=False, recompile_limit=1))
    _sizes_logits(model, _build(cfg), [(32, 32), (40, 48), (48, 64)])
    assert len(COMPILES) == 1
    assert len(said) == 1 and 'runs the network eagerly from now on' in said[0] and '(1, 3, 40, 48)' in said[0]


def test_compiled_copy_follows_training_without_compiling_again(monkeypatch):
    """Validation during training: an optimizer step changes the weights in place. The copy used to be rebuilt
    and handed to torch.compile again at every validation (a new compiled region: compiled again wherever dynamo
    guards on the module, as torch < 2.5 did, or isolates regions); it now takes the new (folded) weights in
    place, into the region compiled at the first validation."""
    compile_calls = []
    real_compile = torch.compile

    def counted_compile(*args, **kwargs):
        compile_calls.append(kwargs)
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(torch, 'compile', counted_compile)
    cfg = tiny_deeplabv3plus(num_classes=4, aux=False)
    model, plain = _build(cfg, fuse_bn=True, compile=dict(backend=counting_backend)), _build(cfg)
    _sizes_logits(model, plain, [(32, 32)])
    COMPILES.clear()
    for step in range(2):  # what training does between two validations: BN statistics and weights change
        for m in (model, plain):
            m.train()
            with torch.no_grad():
                m(torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(step)), mode='tensor')
                for p in m.parameters():
                    p.mul_(0.9)
            m.eval()
        _sizes_logits(model, plain, [(32, 32)])
    assert len(compile_calls) == 1 and not COMPILES, (compile_calls, COMPILES)


def test_a_runtime_backend_on_a_gpu_model_says_so_before_exporting_or_calibrating(monkeypatch):
    """test_cfg.backend on a model on a GPU (the meta device stands in for it): the export and the int8
    calibration (minutes with OpenVINO) used to run first, and the message came only at the first image."""
    import segkit.models.inference.fast_net as fast_net
    calibrated = []
    monkeypatch.setattr(fast_net, 'calibration_batches', lambda *args, **kwargs: calibrated.append(args) or [])
    model = _build(tiny_deeplabv3plus(num_classes=4, aux=False),
                   backend=dict(type='openvino', precision='int8', calibration='random'))
    with pytest.raises(RuntimeError, match=r"test_cfg.backend runs the network on the CPU \(ONNX Runtime / "
                                           r"OpenVINO\), but this model is on meta: on GPUs use "
                                           r"model.test_cfg.autocast='bfloat16'"):
        model._fast_forward(torch.empty(1, 3, 32, 32, device='meta'))
    assert not calibrated
