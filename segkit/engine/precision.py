"""The training precision, decided in one place from the config's optimizer wrapper, ``--amp`` and the device.

==========================================  ======  =======  ==========================================
config ``optim_wrapper.type``               device  --amp    trains with
==========================================  ======  =======  ==========================================
``OptimWrapper``                            any     no       float32 (``dtype``, ``device_type``,
                                                             ``loss_scale`` dropped: so
                                                             ``--cfg-options optim_wrapper.type=OptimWrapper``
                                                             turns a bf16 config into float32)
``OptimWrapper``                            cpu     yes      ``AutocastOptimWrapper`` bfloat16
any                                         cuda    yes      ``AmpOptimWrapper`` float16, dynamic loss scale
``AutocastOptimWrapper(dtype=D)``           cpu     any      autocast D on the CPU
``AutocastOptimWrapper(dtype=D)``           cuda    no       autocast D on the GPU (bfloat16 needs no loss
                                                             scaling; float16, or bfloat16 on a GPU without
                                                             it, becomes ``AmpOptimWrapper`` float16)
``AmpOptimWrapper``                         cuda    any      unchanged
``AmpOptimWrapper``                         cpu     any      ``AutocastOptimWrapper`` bfloat16 (mmengine's
                                                             ``AmpOptimWrapper`` needs a GPU)
==========================================  ======  =======  ==========================================

So a config written for CPU bfloat16 (``AutocastOptimWrapper(dtype='bfloat16', device_type='cpu')``) autocasts on
the GPU when it runs on one, instead of silently training in float32: the autocast device follows the device the
run is on, whatever ``device_type`` the config names. Keyword arguments that only one wrapper takes
(``dtype``/``device_type``, ``loss_scale``/``use_fsdp``) are dropped when the type changes.
"""
import torch
from mmengine.config import ConfigDict
from mmengine.logging import print_log

from .launcher import local_cuda_device

AUTOCAST = 'AutocastOptimWrapper'
AMP = 'AmpOptimWrapper'
_ONLY_FOR = {AUTOCAST: ('dtype', 'device_type'), AMP: ('dtype', 'loss_scale', 'use_fsdp')}  # dropped on retyping


def run_device() -> str:
    """The device mmengine's Runner puts the model on (segkit trains on CUDA or the CPU)."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def cuda_supports_bfloat16() -> bool:
    """Whether the GPU this process trains on runs bfloat16 natively (compute capability 8.0 on: A100, RTX 30xx,
    H100, ...; ROCm GPUs do).

    Not ``torch.cuda.is_bf16_supported()``: by default it counts emulation, so a V100 or T4 would train in slow
    emulated bfloat16 instead of the float16 fallback; and it asks ``torch.cuda.current_device()`` (GPU 0 for every
    rank before ``set_device``) and, on pre-Ampere GPUs, allocates there, creating a CUDA context on GPU 0 from
    every rank. Here the device is the local rank's (:func:`~segkit.engine.launcher.local_cuda_device`) and only
    its properties are read.
    """
    if torch.version.hip:
        return True
    return torch.cuda.get_device_capability(local_cuda_device())[0] >= 8


def resolve_precision(optim_wrapper: dict, amp: bool, device: str) -> ConfigDict:
    """The optimizer-wrapper config that trains at the precision the table in this module gives."""
    cfg = ConfigDict(optim_wrapper)
    kind = str(cfg.get('type', 'OptimWrapper')).split('.')[-1]
    mixed_only = [key for key in ('dtype', 'device_type', 'loss_scale') if key in cfg]
    if kind == 'OptimWrapper' and mixed_only:  # --cfg-options optim_wrapper.type=OptimWrapper on a bf16 config
        for key in mixed_only:
            cfg.pop(key)
        print_log(f"precision: optim_wrapper type='OptimWrapper' trains in float32; dropped {mixed_only} left "
                  'from a mixed-precision wrapper (segkit.engine.precision)', logger='current')
    if device == 'cuda':
        if kind == AMP:
            return cfg
        if amp or (kind == AUTOCAST and not _bf16_on_cuda(cfg)):
            return _retype(cfg, AMP, dtype='float16', loss_scale='dynamic')
        if kind == AUTOCAST:
            return _retype(cfg, AUTOCAST, dtype='bfloat16', device_type='cuda')
        return cfg
    if amp or kind in (AUTOCAST, AMP):
        dtype = cfg.get('dtype') if kind == AUTOCAST and cfg.get('dtype') else 'bfloat16'
        return _retype(cfg, AUTOCAST, dtype=dtype, device_type='cpu')
    return cfg


def _bf16_on_cuda(cfg: ConfigDict) -> bool:
    return cfg.get('dtype', 'bfloat16') == 'bfloat16' and cuda_supports_bfloat16()


def _retype(cfg: ConfigDict, kind: str, **kwargs) -> ConfigDict:
    before = dict(cfg)
    for key in _ONLY_FOR.get(str(before.get('type', 'OptimWrapper')).split('.')[-1], ()):
        cfg.pop(key, None)
    cfg.update(type=kind, **kwargs)
    if dict(cfg) != before:
        settings = ', '.join(f'{k}={v!r}' for k, v in kwargs.items())
        print_log(f"precision: optim_wrapper type={before.get('type')!r} becomes {kind}({settings}) on this "
                  'device (segkit.engine.precision)', logger='current')
    return cfg
