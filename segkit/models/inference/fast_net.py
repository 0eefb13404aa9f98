"""The network a segmentor runs at inference when its options ask for a transformed copy.

``fuse_bn``
    Folds every BatchNorm into the convolution before it (``W' = W * gamma / sigma``, ``b' = (b - mu) * gamma /
    sigma + beta``), so inference runs one op where training ran two. Exact up to float rounding.
``compile``
    ``torch.compile`` of the backbone + head with weight freezing (Inductor folds constants and fuses
    conv + activation on CPU). The first call compiles (tens of seconds to minutes). Needs a C++ compiler on CPU.
``backend``
    Runs the network in another runtime (``RUNTIMES`` registry, filled by :mod:`segkit.deployment.runtime_net`):
    exported on first use; int8 calibrated on ready batches this module prepares (:mod:`.calibration`).

The copy never touches the trained modules: the first inference call in eval mode builds it from backbone, neck
and decode head, and later calls reuse it until a parameter or buffer changes (an optimizer step,
``load_state_dict``, ``.to()``), which rebuilds it. Training, ``mode='tensor'`` and the state dict are unaffected.
The copy keeps the model's memory layout (``model.channels_last``).
"""
import copy
from typing import Callable, Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval

from segkit.models.backbones.resnet_blocks import BasicBlock, Bottleneck
from segkit.registry import RUNTIMES
from .calibration import calibration_batches
from .options import InferenceOptions


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
                        options: InferenceOptions, example: torch.Tensor,
                        preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                        ) -> Callable[[torch.Tensor], torch.Tensor]:
    """A transformed copy of the parts, as ``options`` ask.

    ``example`` (an input batch) is what a backend's export traces; ``preprocess`` (uint8 CHW image -> network
    input) turns int8 calibration images into ready batches.
    """
    net = copy.deepcopy(InferenceNet(backbone, neck, decode_head)).eval()
    for param in net.parameters():
        param.requires_grad_(False)
    if options.fuse_bn:
        fold_batch_norms(net)
    if options.channels_last:
        net = net.to(memory_format=torch.channels_last)
    if options.backend is not None:
        backend = options.backend
        calibration = None
        if backend.precision == 'int8':
            calibration = calibration_batches(backend.calibration, preprocess, example)
        return RUNTIMES.build(dict(type=backend.type, net=net.float(), example=example.float(),
                                   precision=backend.precision, threads=backend.threads, calibration=calibration))
    if options.compile is not None:
        kwargs = dict(options.compile)
        kwargs.setdefault('dynamic', False)
        kwargs.setdefault('options', {'freezing': True})
        return torch.compile(net, **kwargs)
    return net
