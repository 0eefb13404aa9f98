"""Atrous and depthwise convolutions by their fastest exact route (segkit/models/fast_conv.py): the rule, and every
route computing what ``nn.Conv2d`` computes (outputs and both gradients), in both layouts and under bf16 autocast."""
import copy

import pytest
import torch
from torch import nn

from segkit.models.fast_conv import RoutedConv2d, conv_route, could_reroute, plain_convolutions, route_convolutions


def _conv(channels, rate=1, stride=1, depthwise=True, kernel=3):
    return nn.Conv2d(channels, channels, kernel, stride=stride, padding=rate * (kernel // 2), dilation=rate,
                     groups=channels if depthwise else 1, bias=True)


@pytest.mark.parametrize('channels,size,rate,stride,depthwise,dtype,route', [
    (8, 16, 2, 1, True, torch.float32, 'space_to_batch'),   # 8x8 maps
    (8, 16, 6, 1, True, torch.float32, 'space_to_batch'),   # 3x3 maps (16 padded to 18)
    (8, 16, 12, 1, True, torch.float32, 'native'),          # 2x2 maps: tiny convolutions lose
    (8, 16, 12, 1, True, torch.bfloat16, 'float32'),
    (8, 16, 18, 1, True, torch.float32, 'center'),          # rate >= size: DeepLabv3 3.3's 1x1
    (8, 16, 16, 1, False, torch.float32, 'center'),         # dense too
    (8, 16, 2, 1, False, torch.float32, 'native'),          # dense atrous: oneDNN's own is fast
    (8, 16, 1, 2, True, torch.bfloat16, 'float32'),         # stride-2 depthwise in bf16
    (8, 16, 1, 2, True, torch.float32, 'native'),
    (8, 16, 1, 1, True, torch.bfloat16, 'native'),          # plain depthwise: not rerouted at all
])
def test_the_route_rule(channels, size, rate, stride, depthwise, dtype, route):
    conv = _conv(channels, rate, stride, depthwise)
    x = torch.randn(1, channels, size, size, dtype=dtype)
    assert conv_route(conv, x) == route


def test_autocast_counts_as_bfloat16_and_tracing_stays_native():
    conv = _conv(4, 1, 2)
    x = torch.randn(1, 4, 16, 16)
    assert conv_route(conv, x) == 'native'
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert conv_route(conv, x) == 'float32'
    atrous = _conv(4, 2, 1)
    seen = []
    atrous.__class__ = RoutedConv2d
    atrous.register_forward_pre_hook(lambda m, args: seen.append(conv_route(m, args[0])))
    traced = torch.jit.trace(atrous, torch.randn(1, 4, 16, 16), check_trace=False)
    assert seen == ['native'] and 'permute' not in str(traced.graph)
    assert conv_route(atrous, torch.randn(1, 4, 16, 16)) == 'space_to_batch'  # outside tracing


def test_only_plain_convolutions_that_could_reroute_are_converted():
    model = nn.Sequential(_conv(4, 2), _conv(4, 1), _conv(4, 1, 2), _conv(4, 2, depthwise=False),
                          nn.Conv2d(4, 4, 3, padding=1, dilation=1), nn.Conv2d(4, 4, 3, padding=1, dilation=2))
    params = [id(p) for p in model.parameters()]
    state = copy.deepcopy(model.state_dict())
    assert route_convolutions(model) == 3
    assert [type(m).__name__ for m in model] == ['RoutedConv2d', 'Conv2d', 'RoutedConv2d', 'RoutedConv2d', 'Conv2d',
                                                 'Conv2d']  # the last one is not a same-size atrous conv
    assert [id(p) for p in model.parameters()] == params
    assert model.state_dict().keys() == state.keys()
    assert not could_reroute(model[1]) and could_reroute(model[0])


def _compare(conv, x, autocast=False):
    """Outputs and gradients of ``conv`` as a plain nn.Conv2d and routed, on the same input and output gradient."""
    results = []
    for cls in (nn.Conv2d, RoutedConv2d):
        torch.manual_seed(0)
        module = copy.deepcopy(conv)
        module.__class__ = cls
        xi = x.detach().clone().requires_grad_()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            y = module(xi)
        g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(y.dtype)
        y.backward(g)
        results.append((y.float(), xi.grad.float(), module.weight.grad.float(), module.bias.grad.float(), y.dtype,
                        y.is_contiguous(memory_format=torch.channels_last)))
    return results


@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('size,rate,stride,depthwise', [
    (16, 2, 1, True), (15, 4, 1, True), (16, 6, 1, True), (20, 6, 1, True), (12, 16, 1, True), (12, 24, 1, False),
    (16, 1, 2, True), (15, 1, 2, True)])
def test_every_route_computes_the_same_convolution(size, rate, stride, depthwise, channels_last):
    conv = _conv(16, rate, stride, depthwise)
    x = torch.randn(2, 16, size, size + 3)
    if channels_last:
        conv = conv.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    assert conv_route(conv, x) != 'native' or (stride == 2)  # fp32 stride 2 stays native; the rest reroute
    native, routed = _compare(conv, x)
    for a, b in zip(native[:4], routed[:4]):  # sums in another order: float32 rounding apart
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    assert routed[4] == native[4]


@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('size,rate,stride', [(16, 2, 1), (16, 12, 1), (16, 1, 2)])
def test_bf16_autocast_routes_match_within_bf16(size, rate, stride, channels_last):
    conv = _conv(16, rate, stride)
    x = torch.randn(2, 16, size, size)
    if channels_last:  # the input only: a channels-last weight would make the output channels-last anyway
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert conv_route(conv, x) in ('space_to_batch', 'float32')
    native, routed = _compare(conv, x, autocast=True)
    assert routed[4] == native[4] == torch.bfloat16  # the same output dtype as autocast's own convolution
    assert routed[5] == native[5] == channels_last  # and the same layout
    for a, b in zip(native[:4], routed[:4]):
        torch.testing.assert_close(b, a, rtol=2e-2, atol=2e-2 * float(a.abs().max()))


def test_a_segmentor_routes_its_atrous_convolutions_and_keeps_its_checkpoint_keys():
    from mmengine.registry import init_default_scope

    from segkit.registry import MODELS
    init_default_scope('segkit')
    cfg = dict(type='EncoderDecoder', output_stride=8,
               data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1]),
               backbone=dict(type='MobileNetV2', widen_factor=0.25, out_indices=(1, 6)),
               decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=80, channels=16, num_classes=3,
                                dilations=(1, 12, 24, 36), low_level_in_channels=8, low_level_channels=8,
                                low_level_index=0, in_index=1))
    model = MODELS.build(cfg)
    routed = [name for name, m in model.named_modules() if type(m) is RoutedConv2d]
    assert any(name.startswith('backbone.') for name in routed) and any('aspp' in name for name in routed)
    reference = MODELS.build(cfg)
    plain_convolutions(reference)
    reference.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 64)
    model.train()
    reference.train()
    outputs = []
    for net in (model, reference):
        torch.manual_seed(0)  # the same dropout mask
        outputs.append(net.encode_decode(x, [dict(img_shape=(64, 64))] * 2))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-4)


def test_the_float32_route_really_computes_in_float32():
    conv = _conv(16, 1, 2)
    x = torch.randn(2, 16, 16, 16)
    routed = copy.deepcopy(conv)
    routed.__class__ = RoutedConv2d
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = routed(x)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y, conv(x).to(torch.bfloat16))  # autocast's bf16 convolution rounds the inputs first


def test_a_route_that_does_not_compute_the_convolution_is_refused():
    from segkit.models.fast_conv import routed_conv2d, valid_routes
    conv = _conv(4, 1, 2)
    x = torch.randn(1, 4, 16, 16)
    assert valid_routes(conv, x) == ('native', 'float32')
    with pytest.raises(ValueError, match="route 'center' does not compute.*valid: \\('native', 'float32'\\)"):
        routed_conv2d(conv, x, conv.weight, conv.bias, route='center')
    atrous = _conv(4, 8, 1)
    assert valid_routes(atrous, torch.randn(1, 4, 8, 9)) == ('native', 'float32', 'space_to_batch')
    assert 'center' in valid_routes(atrous, torch.randn(1, 4, 8, 8))
