"""Mixed-precision training where mmengine's AmpOptimWrapper cannot run (it requires CUDA)."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from segkit.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs forward and loss under ``torch.autocast(device_type, dtype)``; bfloat16 needs no loss scaling.

    ``tools/train.py --amp`` uses mmengine's ``AmpOptimWrapper`` (float16 + loss scaler) on CUDA and this wrapper
    with bfloat16 on CPU, where autocast runs convolutions and matmuls in bfloat16 (fast on AVX-512 BF16 / AMX).
    """

    def __init__(self, *, dtype: str = 'bfloat16', device_type: str = 'cpu', **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(device_type=self.device_type, dtype=self.cast_dtype):
            yield
