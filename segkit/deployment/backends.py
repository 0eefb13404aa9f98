"""Run an exported segmentor with its own runtime: ONNX Runtime, OpenVINO or TorchScript.

Each backend is called with an ``N x 3 x H x W`` float32 BGR (0-255) numpy array and returns ``N x C x H x W``
float32 logits; ``input_shape`` is ``(H, W)`` for a static model and ``None`` for a dynamic one.
"""
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

__all__ = ['BACKEND_SUFFIXES', 'load_backend', 'OnnxRuntimeBackend', 'OpenVINOBackend', 'TorchScriptBackend']


def _static_hw(dims) -> Optional[Tuple[int, int]]:
    h, w = dims[2], dims[3]
    return (int(h), int(w)) if isinstance(h, int) and isinstance(w, int) else None


class OnnxRuntimeBackend:
    name = 'ONNX Runtime'

    def __init__(self, path: str, device: str = 'cpu'):
        try:
            import onnxruntime
        except ImportError as exc:
            raise ImportError("running ONNX models needs onnxruntime: pip install -e '.[deploy]'") from exc
        providers = ['CUDAExecutionProvider', 'CPUExecutionProvider'] if device.startswith('cuda') else \
            ['CPUExecutionProvider']
        available = set(onnxruntime.get_available_providers())
        self.session = onnxruntime.InferenceSession(str(path), providers=[p for p in providers if p in available])
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = _static_hw(self.session.get_inputs()[0].shape)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(images, dtype=np.float32)})[0]


class OpenVINOBackend:
    name = 'OpenVINO'

    def __init__(self, path: str, device: str = 'cpu'):
        try:
            import openvino
        except ImportError as exc:
            raise ImportError("running OpenVINO models needs openvino: pip install -e '.[deploy]'") from exc
        core = openvino.Core()
        model = core.read_model(str(path))
        shape = model.inputs[0].get_partial_shape()
        self.input_shape = (shape[2].get_length(), shape[3].get_length()) if shape.is_static else None
        # f32 inference: on CPUs with bf16 units OpenVINO would otherwise pick bf16 and drift by ~1e-3 in logits
        self.compiled = core.compile_model(model, 'GPU' if device.startswith('cuda') else 'CPU',
                                           {'INFERENCE_PRECISION_HINT': 'f32'})

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.compiled(np.ascontiguousarray(images, dtype=np.float32))[0]


class TorchScriptBackend:
    name = 'TorchScript'

    def __init__(self, path: str, device: str = 'cpu'):
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


BACKEND_SUFFIXES = {'.onnx': OnnxRuntimeBackend, '.xml': OpenVINOBackend, '.torchscript': TorchScriptBackend}


def load_backend(path: Union[str, Path], device: str = 'cpu'):
    """The backend for an exported file, chosen by its suffix (``.onnx``, ``.xml``, ``.torchscript``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'exported model not found: {path}')
    backend = BACKEND_SUFFIXES.get(path.suffix.lower())
    if backend is None:
        raise ValueError(f'{path}: unknown exported model type; expected one of {sorted(BACKEND_SUFFIXES)}')
    return backend(str(path), device)
