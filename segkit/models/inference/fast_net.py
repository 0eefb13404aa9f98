"""The network a segmentor runs at inference when its options ask for a transformed copy.

``fuse_bn``
    Folds every BatchNorm into the convolution before it (``W' = W * gamma / sigma``, ``b' = (b - mu) * gamma /
    sigma + beta``), so inference runs one op where training ran two. Exact up to float rounding.
``compile``
    ``torch.compile`` of the backbone + head with weight freezing (Inductor folds constants and fuses
    conv + activation on CPU). The first call compiles (tens of seconds to minutes). Needs a C++ compiler on CPU.
    Image sizes, fallbacks and weight changes: :class:`CompiledNet`.
``backend``
    Runs the network in another runtime (``RUNTIMES`` registry, filled by :mod:`segkit.deployment.runtime_net`):
    exported on first use; int8 calibrated on ready batches this module prepares (:mod:`.calibration`).

The copy never touches the trained modules: the first inference call in eval mode builds it from backbone, neck
and decode head, and later calls reuse it until a parameter or buffer changes (an optimizer step,
``load_state_dict``, ``.to()``), which rebuilds it or, compiled, refreshes its weights
(:class:`InferenceNetCache`). Training, ``mode='tensor'`` and the state dict are unaffected.
The copy keeps the model's memory layout (``model.channels_last``).
"""
import copy
import logging
from typing import Callable, Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval

from segkit.models.backbones.resnet_blocks import BasicBlock, Bottleneck
from segkit.models.fast_conv import RoutedConv2d
from segkit.registry import RUNTIMES
from .calibration import calibration_batches
from .options import InferenceOptions, backend_needs_cpu


def _fusable(conv: nn.Module, norm: nn.Module) -> bool:
    return (type(conv) in (nn.Conv2d, RoutedConv2d) and isinstance(norm, _BatchNorm) and norm.track_running_stats
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


def state_key(module: nn.Module) -> Tuple[Tuple, Tuple]:
    """``(structure, values)``: the first changes when a parameter or buffer of ``module`` is replaced, moved or
    cast, the second when one is modified in place (an optimizer step, ``load_state_dict``)."""
    tensors = list(module.parameters()) + list(module.buffers())
    return (tuple((id(t), t.device, t.dtype, tuple(t.shape)) for t in tensors),
            tuple(t._version for t in tensors))


def transformed_copy(backbone: nn.Module, neck: Optional[nn.Module], decode_head: nn.Module,
                     options: InferenceOptions) -> nn.Module:
    """An eval-mode copy of the parts with BN folded (``fuse_bn``) and in the model's memory layout."""
    net = copy.deepcopy(InferenceNet(backbone, neck, decode_head)).eval()
    for param in net.parameters():
        param.requires_grad_(False)
    if options.fuse_bn:
        fold_batch_norms(net)
    if options.channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def build_inference_net(backbone: nn.Module, neck: Optional[nn.Module], decode_head: nn.Module,
                        options: InferenceOptions, example: torch.Tensor,
                        preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                        ) -> Callable[[torch.Tensor], torch.Tensor]:
    """A transformed copy of the parts, as ``options`` ask.

    ``example`` (an input batch) is what a backend's export traces; ``preprocess`` (uint8 CHW image -> network
    input) turns int8 calibration images into ready batches.
    """
    if options.backend is not None and example.device.type != 'cpu':  # before the export and the calibration
        raise backend_needs_cpu(example.device)
    net = transformed_copy(backbone, neck, decode_head, options)
    if options.backend is not None:
        backend = options.backend
        calibration = None
        if backend.precision == 'int8':
            calibration = calibration_batches(backend.calibration, preprocess, example)
        return RUNTIMES.build(dict(type=backend.type, net=net.float(), example=example.float(),
                                   precision=backend.precision, threads=backend.threads, calibration=calibration))
    if options.compile is not None:
        return CompiledNet(net, options.compile)
    return net


def _compile_errors() -> Tuple[type, ...]:
    from torch._dynamo import exc
    return tuple(getattr(exc, name) for name in ('TorchDynamoException', 'FailOnRecompileLimitHit')
                 if hasattr(exc, name))


class CompiledNet:
    """``torch.compile`` of the transformed copy, with settings that keep it compiled:

    - ``dynamic=None`` (torch's automatic dynamic shapes): the first image size is compiled for, the first other
      size once more with symbolic height and width, then every size reuses that; with ``dynamic=False`` each
      new size was a compile, and after ``torch._dynamo.config.recompile_limit`` (8) sizes dynamo ran the
      network eagerly without a word.
    - ``fullgraph=True`` and, where torch has it, ``isolate_recompiles=True`` (this copy's compiles count
      against its own limit): a graph break or the recompile limit raises instead of running eagerly in
      silence; this class then runs the eager copy from there on and logs why, once. ``compile=dict(
      fullgraph=False)`` lets dynamo split the graph instead.
    - Inductor weight freezing (``options={'freezing': True}``, unless ``mode`` or ``options`` are given): the
      weights become constants of the compiled code, the fastest for ``tools/test.py``.

    When the weights change under it (validation during training) the copy must follow them. A frozen copy is
    compiled once more without freezing (logged); from then on, and for a copy that was never frozen, new weights
    (BN folded again when ``fuse_bn``) are copied into the compiled copy's tensors in place: the compiled code
    reads them at each call, so nothing is compiled again.
    """

    def __init__(self, net: nn.Module, compile_kwargs) -> None:
        import inspect
        kwargs = dict(compile_kwargs)
        kwargs.setdefault('fullgraph', True)
        accepted = inspect.signature(torch.compile).parameters
        if 'isolate_recompiles' in accepted:
            kwargs.setdefault('isolate_recompiles', True)
        if kwargs.get('backend', 'inductor') == 'inductor' and 'mode' not in kwargs:
            kwargs.setdefault('options', {'freezing': True})
        self.kwargs = kwargs
        self.net = net
        self.compiled = torch.compile(net, **kwargs)
        self.eager_reason: Optional[str] = None

    @property
    def frozen(self) -> bool:
        return bool((self.kwargs.get('options') or {}).get('freezing'))

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.eager_reason is None:
            try:
                return self.compiled(inputs)
            except _compile_errors() as exc:
                self.eager_reason = f'{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}'
                print_log(f'model.test_cfg.compile: torch.compile failed on an input of {tuple(inputs.shape)} '
                          f'({self.eager_reason}); inference runs the network eagerly from now on',
                          logger='current', level=logging.WARNING)
        return self.net(inputs)

    def refresh(self, fresh: nn.Module) -> None:
        """Take the weights of ``fresh`` (a :func:`transformed_copy` of the changed modules, same structure)."""
        if self.frozen:
            print_log('model.test_cfg.compile: the weights changed since the network was compiled with them frozen '
                      '(validation during training): compiling it once more without freezing; later weight changes '
                      'are copied into it without compiling', logger='current')
            self.__init__(fresh, dict(self.kwargs, options=dict(self.kwargs['options'], freezing=False)))
            return
        with torch.no_grad():
            for mine, new in zip(self.net.state_dict().values(), fresh.state_dict().values()):
                mine.copy_(new)


class InferenceNetCache:
    """The transformed copy of a segmentor's network and the state of the weights it was made from.

    Rebuilt when a tensor is replaced, moved or cast; when tensors only change in place (training steps between
    validations), a compiled copy takes the new weights without compiling again (:meth:`CompiledNet.refresh`),
    an eager copy (``fuse_bn`` / channels-last; milliseconds) and a runtime backend (the exported file holds the
    weights: exported, and calibrated, again) are rebuilt.
    """

    def __init__(self) -> None:
        self.net = None
        self.key: Optional[Tuple[Tuple, Tuple]] = None

    def get(self, owner: nn.Module, backbone: nn.Module, neck: Optional[nn.Module], decode_head: nn.Module,
            options: InferenceOptions, example: torch.Tensor,
            preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None) -> Callable:
        key = state_key(owner)
        if self.net is not None and key == self.key:
            return self.net
        if self.net is not None and key[0] == self.key[0] and isinstance(self.net, CompiledNet):
            self.net.refresh(transformed_copy(backbone, neck, decode_head, options))
        else:
            self.net = build_inference_net(backbone, neck, decode_head, options, example, preprocess)
        self.key = key
        return self.net
