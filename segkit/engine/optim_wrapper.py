"""Mixed-precision training where mmengine's AmpOptimWrapper cannot run (it requires CUDA), or is not needed."""
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.optim import OptimWrapper

from segkit.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward and loss under ``torch.autocast(device_type, dtype)``; bfloat16 needs no loss scaling.

    ``device_type=None`` autocasts on the device of the model's parameters. ``tools/train.py`` sets it (and the
    wrapper type) from the device the run is on, in :func:`segkit.engine.precision.resolve_precision`: on the CPU
    autocast runs convolutions and matmuls in bfloat16 (fast on AVX-512 BF16 / AMX), on a GPU ``--amp`` picks
    mmengine's ``AmpOptimWrapper`` (float16 + loss scaling).
    """

    def __init__(self, *, dtype: str = 'bfloat16', device_type: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        device_type = self.device_type or next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type=device_type, dtype=self.cast_dtype):
            yield
