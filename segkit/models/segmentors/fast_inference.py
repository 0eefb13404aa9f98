"""Inference-only speed options of a segmentor, set as ``model.test_cfg`` keys.

``fuse_bn=True``
    Folds every BatchNorm into the convolution before it (``W' = W * gamma / sigma``, ``b' = (b - mu) * gamma /
    sigma + beta``), so inference runs one op where training ran two. Exact up to float rounding.
``channels_last=True``
    Runs weights and activations in NHWC, the layout oneDNN's convolutions (and tensor cores) prefer; it helps
    most where depthwise convolutions dominate (MobileNetV2, separable ASPP).
``compile=True`` or ``compile=dict(...)``
    ``torch.compile`` of the backbone + head with weight freezing (Inductor folds constants and fuses
    conv + activation on CPU). The first call compiles (tens of seconds to minutes); dict entries go to
    ``torch.compile`` (e.g. ``dict(mode='max-autotune')``). Needs a C++ compiler on CPU.
``backend=dict(type='onnxruntime' | 'openvino', precision='fp32' | 'bf16' | 'int8', ...)``
    Runs the network in another runtime, exported on first use (:mod:`segkit.deployment.runtime_net`); int8 is
    post-training quantization calibrated on training images.

The options never touch the trained modules: the first inference call in eval mode builds a transformed copy of
backbone, neck and decode head, and later calls reuse it until a parameter or buffer changes (an optimizer
step, ``load_state_dict``, ``.to()``), which rebuilds it. Training, ``mode='tensor'`` and the state dict are
unaffected.
"""
import copy
from typing import Callable, Mapping, Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval

from segkit.models.backbones.resnet_blocks import BasicBlock, Bottleneck

OPTION_KEYS = ('fuse_bn', 'channels_last', 'compile', 'backend')


def check_speed_options(test_cfg: Mapping) -> dict:
    """The speed options present in ``test_cfg``, validated (bools, or a dict of torch.compile arguments)."""
    options = {key: test_cfg[key] for key in OPTION_KEYS if test_cfg.get(key) not in (None, False)}
    for key in ('fuse_bn', 'channels_last'):
        if key in options and options[key] is not True:
            raise ValueError(f'test_cfg.{key} must be True or False, got {options[key]!r}')
    if 'compile' in options and not (options['compile'] is True or isinstance(options['compile'], Mapping)):
        raise ValueError("test_cfg.compile must be True, False or a dict of torch.compile arguments "
                         f"(e.g. dict(mode='max-autotune')), got {options['compile']!r}")
    if 'backend' in options:
        from segkit.deployment.runtime_net import check_backend_option
        options['backend'] = check_backend_option(options['backend'])
        for other in ('compile', 'autocast'):
            if test_cfg.get(other):
                raise ValueError(f'test_cfg.backend and test_cfg.{other} exclude each other: the backend runs the '
                                 "network itself (its bf16 is backend.precision='bf16')")
    return options


def _fusable(conv: nn.Module, norm: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and isinstance(norm, _BatchNorm) and norm.track_running_stats
            and conv.out_channels == norm.num_features)


def fold_batch_norms(module: nn.Module) -> int:
    """Fold BatchNorms into the preceding convs of ``module`` in place (it must be in eval mode); returns how many.

    Recognised: mmcv ``ConvModule`` (conv before norm), ResNet ``BasicBlock`` / ``Bottleneck`` (``convK`` then
    ``bnK``) and ``nn.Sequential`` with a conv directly followed by a BatchNorm. Other layouts stay as they are.
    """
    if module.training:
        raise RuntimeError('fold_batch_norms needs a module in eval mode (BN must use its running statistics)')
    folded = 0
    for m in list(module.modules()):
        if isinstance(m, ConvModule):
            if m.with_norm and m.order.index('conv') < m.order.index('norm') and _fusable(m.conv, m.norm):
                m.conv = fuse_conv_bn_eval(m.conv, m.norm)
                setattr(m, m.norm_name, nn.Identity())
                folded += 1
        elif isinstance(m, (BasicBlock, Bottleneck)):
            for i in (1, 2, 3):
                conv, norm_name = getattr(m, f'conv{i}', None), getattr(m, f'norm{i}_name', None)
                if conv is not None and _fusable(conv, getattr(m, norm_name)):
                    setattr(m, f'conv{i}', fuse_conv_bn_eval(conv, getattr(m, norm_name)))
                    setattr(m, norm_name, nn.Identity())
                    folded += 1
        elif isinstance(m, nn.Sequential):
            names = list(m._modules)
            for first, second in zip(names, names[1:]):
                conv, norm = m._modules[first], m._modules[second]
                if _fusable(conv, norm):
                    m._modules[first] = fuse_conv_bn_eval(conv, norm)
                    m._modules[second] = nn.Identity()
                    folded += 1
    return folded


class InferenceNet(nn.Module):
    """Backbone (+ neck) + decode head as one module: image batch -> logits at the head's resolution."""

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module], decode_head: nn.Module):
        super().__init__()
        self.backbone, self.neck, self.decode_head = backbone, neck, decode_head

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return self.decode_head(feats)


def state_key(module: nn.Module) -> Tuple:
    """Changes whenever a parameter or buffer of ``module`` is modified in place, replaced or moved."""
    tensors = list(module.parameters()) + list(module.buffers())
    return tuple((id(t), t._version, t.device, t.dtype) for t in tensors)


def build_inference_net(backbone: nn.Module, neck: Optional[nn.Module], decode_head: nn.Module,
                        options: Mapping, example: Optional[torch.Tensor] = None,
                        preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                        ) -> Tuple[Callable[[torch.Tensor], torch.Tensor], bool]:
    """A transformed copy of the parts, and whether it wants channels-last inputs.

    ``example`` (an input batch) and ``preprocess`` (uint8 CHW image -> network input) are needed by ``backend``:
    the export traces the example, int8 calibration preprocesses its images.
    """
    net = copy.deepcopy(InferenceNet(backbone, neck, decode_head)).eval()
    for param in net.parameters():
        param.requires_grad_(False)
    if options.get('fuse_bn'):
        fold_batch_norms(net)
    if options.get('backend'):
        from segkit.deployment.runtime_net import RuntimeNet
        return RuntimeNet(net.float(), options['backend'], example.float(), preprocess), False
    channels_last = bool(options.get('channels_last'))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    compile_opts = options.get('compile')
    if compile_opts:
        kwargs = dict(compile_opts) if isinstance(compile_opts, Mapping) else {}
        kwargs.setdefault('dynamic', False)
        kwargs.setdefault('options', {'freezing': True})
        return torch.compile(net, **kwargs), channels_last
    return net, channels_last
