"""``model.test_cfg.backend``: the segmentor's network run by ONNX Runtime or OpenVINO, in fp32, bf16 or int8.

    test_cfg=dict(backend=dict(type='openvino', precision='int8',
                               calibration=dict(images='data/camvid/train', num=32)))

The segmentor's fast copy (:mod:`segkit.models.inference.fast_net`) builds ``RUNTIMES`` entries by the
``backend.type`` name; each exports the network once to ONNX with dynamic batch, height and width (the same
exporter as ``tools/deployment/export.py``) and opens it with that runtime's session class
(:mod:`.sessions`); for int8 the caller hands over ready calibration batches (its data preprocessor's output).
CPU only; on GPUs use ``test_cfg.autocast`` instead.
"""
import tempfile
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn

from segkit.models.inference.options import backend_needs_cpu
from segkit.registry import RUNTIMES
from .export import export_onnx
from .sessions import OnnxRuntimeSession, OpenVINOSession

__all__ = ['RuntimeNet']


class RuntimeNet:
    """A network exported to ONNX (dynamic N, H, W) and run by a session; torch tensors in and out."""

    def __init__(self, net: nn.Module, example: torch.Tensor, open_session: Callable[[Path], Callable]):
        self._tmp = tempfile.TemporaryDirectory(prefix='segkit_backend_')
        onnx_file = Path(self._tmp.name) / 'net.onnx'
        export_onnx(net, example.contiguous(), onnx_file, dynamic=True)
        self.session = open_session(onnx_file)

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.device.type != 'cpu':
            raise backend_needs_cpu(inputs.device)
        return torch.from_numpy(self.session(inputs.detach().float().contiguous().numpy()))


def _threads(threads: Optional[int]) -> int:
    return int(threads or torch.get_num_threads())


@RUNTIMES.register_module('onnxruntime')
def onnxruntime_net(*, net: nn.Module, example: torch.Tensor, precision: str = 'fp32',
                    threads: Optional[int] = None, calibration: Optional[Sequence[torch.Tensor]] = None) -> RuntimeNet:
    if precision != 'fp32' or calibration is not None:
        raise ValueError("backend type='onnxruntime' runs fp32 only; bf16 and int8 need type='openvino'")
    return RuntimeNet(net, example, lambda path: OnnxRuntimeSession(path, threads=_threads(threads)))


@RUNTIMES.register_module('openvino')
def openvino_net(*, net: nn.Module, example: torch.Tensor, precision: str = 'fp32', threads: Optional[int] = None,
                 calibration: Optional[Sequence[torch.Tensor]] = None) -> RuntimeNet:
    batches = None if calibration is None else [np.ascontiguousarray(b.numpy()) for b in calibration]
    return RuntimeNet(net, example, lambda path: OpenVINOSession(path, precision=precision, threads=_threads(threads),
                                                                 calibration=batches))
