"""Atrous and depthwise convolutions by the fastest exact route: the same function, fewer or faster operations.

oneDNN, which runs PyTorch's convolutions on the CPU, is slow for some of the convolutions DeepLab relies on (its
training step, forward + backward, measured on 2 AVX-512 cores; ``docs/speed.md`` "Atrous and depthwise
convolutions"): a dilated depthwise 3x3 costs up to 25x the undilated one, and in bfloat16 a stride-2 depthwise
backward is 3-5x slower than in float32. :class:`RoutedConv2d` is an ``nn.Conv2d`` (same parameters, same
``state_dict``) whose forward picks, per call, one of these routes, each computing the same convolution:

``center``
    DeepLabv3 (arXiv:1706.05587), section 3.3: when the atrous rate reaches the feature map's size, "the 3x3 filter
    degenerates to a simple 1x1 filter since only the center filter weight is effective". With ``padding ==
    dilation`` and the rate at least the height and the width, every off-centre tap reads zero padding, so the
    convolution *is* a 1x1 convolution with the centre weights (the off-centre weights get zero gradient either
    way). Any device, any groups.
``space_to_batch``
    DeepLabv2 (arXiv:1606.00915), section 3.1: "subsample the input feature map by a factor equal to the atrous
    convolution rate r, deinterlacing it to produce r^2 reduced resolution maps [...] followed by applying standard
    convolution to these intermediate feature maps and reinterlacing them to the original image resolution".
    Depthwise atrous convolutions on the CPU where each of the r^2 maps keeps at least 3x3 pixels (smaller maps
    make many tiny convolutions, slower than the atrous one).
``float32``
    Depthwise convolutions that autocast would run in bfloat16 on the CPU and oneDNN runs slowly there (stride 2,
    or atrous where space-to-batch does not pay): run in float32 and cast back (these convolutions move memory,
    they do little arithmetic, so bfloat16 saves nothing); an atrous one in NCHW (oneDNN's float32 atrous depthwise
    is faster there), returned in the input's layout.
``native``
    Everything else, and always while tracing or exporting (an exported graph keeps the plain convolution). Under
    ``torch.compile`` only the size-independent ``float32`` route is taken, so that one graph with symbolic sizes
    serves every size.

:func:`route_convolutions` turns a model's ``nn.Conv2d`` modules that could take a faster route into
:class:`RoutedConv2d` in place (segmentors do it once they are built); :func:`conv_route` is the rule.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

ROUTES = ('native', 'center', 'space_to_batch', 'float32')


def _is_depthwise(conv: nn.Conv2d) -> bool:
    return conv.groups > 1 and conv.groups == conv.in_channels == conv.out_channels


def _is_same_atrous(conv: nn.Conv2d) -> bool:
    """Atrous, stride 1, odd square kernel, zero padding that keeps the size (``padding == dilation * (k // 2)``)."""
    k, d = conv.kernel_size, conv.dilation
    return (k[0] == k[1] and k[0] % 2 == 1 and k[0] > 1 and d[0] == d[1] and d[0] > 1 and conv.stride == (1, 1)
            and conv.padding_mode == 'zeros' and conv.padding == (d[0] * (k[0] // 2), ) * 2)


def could_reroute(conv: nn.Module) -> bool:
    """Whether any input could send ``conv`` on a route other than ``native`` (only plain ``nn.Conv2d``)."""
    if type(conv) not in (nn.Conv2d, RoutedConv2d):
        return False
    return _is_same_atrous(conv) or (_is_depthwise(conv) and conv.stride != (1, 1))


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def _channels_last(t: torch.Tensor) -> bool:
    """Laid out NHWC (and not also plain-contiguous, as tensors with size-1 dimensions can be)."""
    return t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting()


def conv_route(conv: nn.Conv2d, x: torch.Tensor) -> str:
    """The route ``conv`` takes for input ``x`` (one of :data:`ROUTES`); see the module's text for the rule."""
    if _exporting() or not could_reroute(conv):
        return 'native'
    height, width = x.shape[-2:]
    rate = conv.dilation[0]
    # no size-dependent choice in compiled code: it would recompile for each size a dynamic-shape graph serves
    sized = _is_same_atrous(conv) and not torch.compiler.is_compiling()
    if sized and rate >= height and rate >= width:
        return 'center'
    if x.device.type != 'cpu' or not _is_depthwise(conv):
        return 'native'
    if sized and -(-height // rate) >= 3 and -(-width // rate) >= 3:
        return 'space_to_batch'
    return 'float32' if _compute_dtype(x) == torch.bfloat16 else 'native'


def _deinterlace(x: torch.Tensor, rate: int) -> Tuple[torch.Tensor, int, int]:
    """(N, C, H, W) -> (rate^2 N, C, ceil(H/rate), ceil(W/rate)): map (i, j) holds pixels (i + rate a, j + rate b)."""
    n, c, h, w = x.shape
    x = F.pad(x, (0, (-w) % rate, 0, (-h) % rate))
    hs, ws = x.shape[2] // rate, x.shape[3] // rate
    if _channels_last(x):
        x = x.permute(0, 2, 3, 1).reshape(n, hs, rate, ws, rate, c).permute(2, 4, 0, 1, 3, 5)
        return x.reshape(rate * rate * n, hs, ws, c).permute(0, 3, 1, 2), h, w
    x = x.reshape(n, c, hs, rate, ws, rate).permute(3, 5, 0, 1, 2, 4)
    return x.reshape(rate * rate * n, c, hs, ws), h, w


def _reinterlace(y: torch.Tensor, rate: int, h: int, w: int) -> torch.Tensor:
    """The inverse of :func:`_deinterlace`, cropped back to ``h`` x ``w``."""
    n, c, hs, ws = y.shape[0] // (rate * rate), y.shape[1], y.shape[2], y.shape[3]
    if _channels_last(y):
        y = y.permute(0, 2, 3, 1).reshape(rate, rate, n, hs, ws, c).permute(2, 3, 0, 4, 1, 5)
        y = y.reshape(n, hs * rate, ws * rate, c).permute(0, 3, 1, 2)
    else:
        y = y.reshape(rate, rate, n, c, hs, ws).permute(2, 3, 4, 0, 5, 1).reshape(n, c, hs * rate, ws * rate)
    if y.shape[-2:] == (h, w):
        return y
    layout = torch.channels_last if _channels_last(y) else torch.contiguous_format
    return y[:, :, :h, :w].contiguous(memory_format=layout)  # a dense tensor: norm layers are slow on a cropped view


def valid_routes(conv: nn.Conv2d, x: torch.Tensor) -> Tuple[str, ...]:
    """Every route that computes ``conv`` of ``x`` (the benchmark ``benchmarks/conv_routes.py`` times each)."""
    routes = ['native', 'float32']
    if _is_same_atrous(conv):
        routes.append('space_to_batch')
        if conv.dilation[0] >= max(x.shape[-2:]):
            routes.append('center')
    return tuple(routes)


def routed_conv2d(conv: nn.Conv2d, x: torch.Tensor, weight: torch.Tensor, bias,
                  route: Optional[str] = None) -> torch.Tensor:
    """``conv``'s convolution of ``x`` with ``weight`` / ``bias`` by ``route`` (default: :func:`conv_route`'s)."""
    if route is None:
        route = conv_route(conv, x)
    elif route not in valid_routes(conv, x):
        raise ValueError(f'route {route!r} does not compute {conv} on an input of shape {tuple(x.shape)}; '
                         f'valid: {valid_routes(conv, x)}')
    if route == 'center':
        k = conv.kernel_size[0] // 2
        return F.conv2d(x, weight[:, :, k:k + 1, k:k + 1], bias, groups=conv.groups)
    if route == 'space_to_batch':
        rate = conv.dilation[0]
        maps, h, w = _deinterlace(x, rate)
        y = F.conv2d(maps, weight, bias, padding=conv.kernel_size[0] // 2, groups=conv.groups)
        return _reinterlace(y, rate, h, w)
    if route == 'float32':
        out_dtype = _compute_dtype(x)
        channels_last = _channels_last(x)
        x = x.float()
        if channels_last and conv.dilation != (1, 1):
            x = x.contiguous()  # oneDNN's float32 atrous depthwise is faster in NCHW (2048 channels: 113 vs 199 ms)
        with torch.autocast(x.device.type, enabled=False):
            y = F.conv2d(x, weight.float(), None if bias is None else bias.float(), conv.stride,
                         conv.padding, conv.dilation, conv.groups)
        y = y.to(out_dtype)
        return y.contiguous(memory_format=torch.channels_last) if channels_last else y
    return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


class RoutedConv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes its convolution by :func:`routed_conv2d` (parameters and state_dict unchanged)."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:  # noqa: A002
        return routed_conv2d(self, input, weight, bias)


def route_convolutions(model: nn.Module) -> int:
    """Make every plain ``nn.Conv2d`` of ``model`` that :func:`could_reroute` a :class:`RoutedConv2d` (in place:
    the same module object and parameters, so optimizers and hooks keep them); returns how many."""
    count = 0
    for module in model.modules():
        if type(module) is nn.Conv2d and could_reroute(module):
            module.__class__ = RoutedConv2d
            count += 1
    return count


def plain_convolutions(model: nn.Module) -> int:
    """Undo :func:`route_convolutions`: every :class:`RoutedConv2d` of ``model`` back to ``nn.Conv2d`` (in place; for
    comparisons, ``benchmarks/peer_workloads.py --plain-convolutions``); returns how many."""
    count = 0
    for module in model.modules():
        if type(module) is RoutedConv2d:
            module.__class__ = nn.Conv2d
            count += 1
    return count
