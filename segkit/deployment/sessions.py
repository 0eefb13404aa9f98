"""One session class per runtime: ONNX Runtime, OpenVINO, TorchScript.

The same classes run exported files (``tools/test.py CONFIG model.onnx``, the export check) and the network copy
of ``test_cfg.backend`` (:mod:`.runtime_net`). A session is called with an ``N x C x H x W`` float32 numpy array
and returns the float32 numpy output; ``input_shape`` is ``(H, W)`` for a static model and ``None`` for a
dynamic one. The runtimes are imported only when used: ``pip install -e '.[deploy]'``.
"""
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ['SESSIONS', 'OnnxRuntimeSession', 'OpenVINOSession', 'TorchScriptSession', 'open_session']

_MAX_COMPILED_SHAPES = 8


def _static_hw(dims) -> Optional[Tuple[int, int]]:
    h, w = dims[2], dims[3]
    return (int(h), int(w)) if isinstance(h, int) and isinstance(w, int) else None


def _import(module: str, what: str):
    try:
        return __import__(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs {module}: pip install -e '.[deploy]'") from exc


def _cuda_index(device: str) -> Optional[int]:
    """``'cuda'`` -> 0, ``'cuda:3'`` -> 3, anything else -> None."""
    kind, _, index = device.partition(':')
    return (int(index) if index else 0) if kind == 'cuda' else None


class OnnxRuntimeSession:
    """An ONNX model run by ONNX Runtime: on ``device='cuda:N'`` with the CUDA execution provider on GPU N when
    this ONNX Runtime has it (``pip install onnxruntime-gpu``), else on the CPU, said once in the log."""
    name = 'ONNX Runtime'

    def __init__(self, path: Union[str, Path], *, device: str = 'cpu', threads: Optional[int] = None):
        onnxruntime = _import('onnxruntime', 'running ONNX models')
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        providers = ['CPUExecutionProvider']
        gpu = _cuda_index(device)
        if gpu is not None:
            if 'CUDAExecutionProvider' in onnxruntime.get_available_providers():
                providers.insert(0, ('CUDAExecutionProvider', {'device_id': gpu}))
            else:
                _note_once(f'{path}: ONNX Runtime here has no CUDAExecutionProvider, so the model runs on the CPU '
                           '(pip install onnxruntime-gpu to run it on the GPU)')
        self.session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        self.device = f'cuda:{gpu}' if 'CUDAExecutionProvider' in self.session.get_providers() else 'cpu'
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = _static_hw(self.session.get_inputs()[0].shape)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(images, dtype=np.float32)})[0]


class OpenVINOSession:
    """An OpenVINO model compiled once per input shape (static shapes run faster than one dynamic model), on the
    CPU whatever ``device`` says (OpenVINO's ``GPU`` plugin is for Intel GPUs, not CUDA ones).

    ``precision``: ``'fp32'`` (also on CPUs with bf16 units, where OpenVINO would otherwise pick bf16 and drift by
    ~1e-3 in logits), ``'bf16'``, or ``'int8'``: NNCF post-training quantization calibrated on ``calibration``,
    ready network inputs given by the caller.
    """
    name = 'OpenVINO'

    def __init__(self, path: Union[str, Path], *, device: str = 'cpu', precision: str = 'fp32',
                 threads: Optional[int] = None, calibration: Optional[Sequence[np.ndarray]] = None):
        openvino = _import('openvino', 'running OpenVINO models')
        self._core = openvino.Core()
        model = self._core.read_model(str(path))
        if precision == 'int8':
            if not calibration:
                raise ValueError("OpenVINO precision='int8' needs calibration batches")
            model = quantize_int8(model, calibration)
        shape = model.inputs[0].get_partial_shape()
        self.input_shape = (shape[2].get_length(), shape[3].get_length()) if shape.is_static else None
        self._model = model
        self.device = 'cpu'
        self._config = {'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32',
                        'PERFORMANCE_HINT': 'LATENCY'}
        if threads:
            self._config['INFERENCE_NUM_THREADS'] = int(threads)
        self._compiled = OrderedDict()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, dtype=np.float32)
        return np.asarray(self._compiled_for(images.shape)(images)[0])

    def _compiled_for(self, shape: Tuple[int, ...]):
        compiled = self._compiled.get(shape)
        if compiled is not None:
            self._compiled.move_to_end(shape)
            return compiled
        model = self._model.clone()
        model.reshape({model.inputs[0]: list(shape)})
        compiled = self._compiled[shape] = self._core.compile_model(model, 'CPU', self._config)
        if len(self._compiled) > _MAX_COMPILED_SHAPES:
            self._compiled.popitem(last=False)
        return compiled


def quantize_int8(model, batches: Sequence[np.ndarray]):
    nncf = _import('nncf', "test_cfg.backend precision='int8'")
    return nncf.quantize(model, nncf.Dataset(list(batches)), subset_size=len(batches),
                         preset=nncf.QuantizationPreset.MIXED)


class TorchScriptSession:
    name = 'TorchScript'

    def __init__(self, path: Union[str, Path], *, device: str = 'cpu'):
        import warnings

        import torch
        self.torch = torch
        self.device = device
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', category=FutureWarning)  # torch >= 2.10: "torch.jit.load is deprecated"
            self.module = torch.jit.load(str(path), map_location=device).eval()
        self.input_shape = None  # traced graphs keep shape arithmetic symbolic: any size runs

    def __call__(self, images: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            out = self.module(self.torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(self.device))
        return out.float().cpu().numpy()


def _note_once(message: str, _said=set()) -> None:
    if message not in _said:
        _said.add(message)
        from mmengine.logging import print_log
        print_log(message, logger='current', level=logging.WARNING)


SESSIONS = {'.onnx': OnnxRuntimeSession, '.xml': OpenVINOSession, '.torchscript': TorchScriptSession}


def open_session(path: Union[str, Path], device: str = 'cpu'):
    """The session for an exported file, chosen by its suffix (``.onnx``, ``.xml``, ``.torchscript``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'exported model not found: {path}')
    session = SESSIONS.get(path.suffix.lower())
    if session is None:
        raise ValueError(f'{path}: unknown exported model type; expected one of {sorted(SESSIONS)}')
    return session(path, device=device)
