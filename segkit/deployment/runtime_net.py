"""``model.test_cfg.backend``: run the network of a segmentor in ONNX Runtime or OpenVINO, in fp32, bf16 or int8.

    test_cfg=dict(backend=dict(type='openvino', precision='int8',
                               calibration=dict(images='data/camvid/train', num=32)))

``type``
    ``'onnxruntime'`` (fp32) or ``'openvino'`` (``precision`` ``'fp32'``, ``'bf16'`` or ``'int8'``).
``precision='int8'``
    Post-training quantization with NNCF (``pip install -e '.[deploy]'``): activations are calibrated on
    ``calibration.num`` images read from ``calibration.images`` (a folder, searched recursively, or a text file of
    paths), put through the model's data preprocessor at their own size. ``calibration='random'`` calibrates on
    random inputs: for timing only, the predictions are then meaningless.

On the first inference call in eval mode the network (backbone + neck + decode head, the part
:mod:`segkit.models.segmentors.fast_inference` transforms) is exported once to ONNX with dynamic height and
width, converted and, for int8, quantized; each input shape gets its own compiled model. Like the other speed
options it never touches the trained modules and is rebuilt when the weights change. CPU only.
"""
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Union

import numpy as np
import torch
from torch import nn

BACKENDS = {'onnxruntime': ('fp32', ), 'openvino': ('fp32', 'bf16', 'int8')}
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
_MAX_COMPILED_SHAPES = 8


def check_backend_option(value: Union[str, Mapping]) -> dict:
    """``test_cfg.backend`` as a dict with its defaults, or a ValueError that says what to write instead."""
    options = dict(type=value) if isinstance(value, str) else dict(value)
    kind = options.get('type')
    if kind not in BACKENDS:
        raise ValueError(f"test_cfg.backend.type must be one of {sorted(BACKENDS)}, got {kind!r}")
    unknown = set(options) - {'type', 'precision', 'calibration', 'threads'}
    if unknown:
        raise ValueError(f'test_cfg.backend: unknown keys {sorted(unknown)}; known: type, precision, calibration, '
                         'threads')
    options.setdefault('precision', 'fp32')
    if options['precision'] not in BACKENDS[kind]:
        raise ValueError(f"test_cfg.backend: {kind} runs precision {' / '.join(BACKENDS[kind])}, got "
                         f"{options['precision']!r}" + ("; bf16 and int8 need type='openvino'"
                                                        if kind == 'onnxruntime' else ''))
    calibration = options.get('calibration')
    if options['precision'] == 'int8':
        if calibration != 'random' and not (isinstance(calibration, Mapping) and calibration.get('images')):
            raise ValueError("test_cfg.backend precision='int8' needs calibration=dict(images=FOLDER_OR_LIST, "
                             "num=32) (training images), or calibration='random' for timing only")
    elif calibration is not None:
        raise ValueError(f"test_cfg.backend.calibration is only used with precision='int8', not "
                         f"{options['precision']!r}")
    return options


def calibration_paths(images: str, num: int) -> List[str]:
    """Up to ``num`` image paths from a folder (recursive, sorted, evenly spread) or a text file of paths."""
    source = Path(images)
    if source.is_dir():
        paths = sorted(str(p) for p in source.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
    elif source.is_file():
        lines = [line.split()[0] for line in source.read_text().splitlines() if line.strip()]
        paths = [p if os.path.isabs(p) else str(source.parent / p) for p in lines]
    else:
        raise FileNotFoundError(f'test_cfg.backend.calibration.images: {images} is neither a folder nor a list file')
    if not paths:
        raise FileNotFoundError(f'test_cfg.backend.calibration.images: no images ({", ".join(IMAGE_SUFFIXES)}) '
                                f'under {images}')
    step = max(1, len(paths) // num)
    return paths[::step][:num]


def calibration_batches(options: Mapping, preprocess: Callable[[torch.Tensor], torch.Tensor],
                        example: torch.Tensor) -> List[np.ndarray]:
    """Network inputs (1 x 3 x H x W float32) for int8 calibration."""
    calibration = options['calibration']
    if calibration == 'random':
        generator = torch.Generator().manual_seed(0)
        return [torch.randn(example.shape[1:], generator=generator)[None].numpy() for _ in range(8)]
    import mmcv
    batches = []
    for path in calibration_paths(calibration['images'], int(calibration.get('num', 32))):
        image = mmcv.imread(path)  # BGR uint8, as the test pipeline loads it
        if image is None:
            raise OSError(f'test_cfg.backend.calibration: cannot read image {path}')
        batches.append(preprocess(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))).numpy())
    return batches


class RuntimeNet:
    """A network exported to ONNX (dynamic H, W) and run by ONNX Runtime or OpenVINO; torch tensors in and out."""

    def __init__(self, net: nn.Module, options: Mapping, example: torch.Tensor,
                 preprocess: Optional[Callable[[torch.Tensor], torch.Tensor]] = None):
        self.options = dict(options)
        self.threads = int(options.get('threads') or torch.get_num_threads())
        self._tmp = tempfile.TemporaryDirectory(prefix='segkit_backend_')
        onnx_file = Path(self._tmp.name) / 'net.onnx'
        export_dynamic_onnx(net, example.contiguous(), onnx_file)
        self._compiled = OrderedDict()
        if options['type'] == 'onnxruntime':
            import onnxruntime
            session_options = onnxruntime.SessionOptions()
            session_options.intra_op_num_threads = self.threads
            self._session = onnxruntime.InferenceSession(str(onnx_file), session_options,
                                                         providers=['CPUExecutionProvider'])
            return
        import openvino
        self._core = openvino.Core()
        model = self._core.read_model(str(onnx_file))
        if options['precision'] == 'int8':
            model = quantize_int8(model, calibration_batches(options, preprocess, example))
        self._model = model

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.device.type != 'cpu':
            raise RuntimeError('test_cfg.backend runs on the CPU; on GPUs use test_cfg.autocast instead')
        array = inputs.detach().float().contiguous().numpy()
        if self.options['type'] == 'onnxruntime':
            return torch.from_numpy(self._session.run(None, {'image': array})[0])
        return torch.from_numpy(np.array(self._compiled_for(array.shape)(array)[0]))

    def _compiled_for(self, shape):
        """One compiled OpenVINO model per input shape (static shapes run faster than a dynamic model)."""
        compiled = self._compiled.get(shape)
        if compiled is None:
            model = self._model.clone()
            model.reshape({model.inputs[0]: list(shape)})
            config = {'INFERENCE_PRECISION_HINT': 'bf16' if self.options['precision'] == 'bf16' else 'f32',
                      'INFERENCE_NUM_THREADS': self.threads, 'PERFORMANCE_HINT': 'LATENCY'}
            compiled = self._compiled[shape] = self._core.compile_model(model, 'CPU', config)
            if len(self._compiled) > _MAX_COMPILED_SHAPES:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(shape)
        return compiled


def export_dynamic_onnx(net: nn.Module, example: torch.Tensor, out_file: Path) -> None:
    dims = {0: torch.export.Dim.DYNAMIC, 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    with torch.no_grad():
        torch.onnx.export(net, (example,), str(out_file), dynamo=True, external_data=False, verbose=False,
                          dynamic_shapes={'inputs': dims}, input_names=['image'], output_names=['logits'])


def quantize_int8(model, batches: List[np.ndarray]):
    try:
        import nncf
    except ImportError as exc:
        raise ImportError("test_cfg.backend precision='int8' needs NNCF: pip install -e '.[deploy]'") from exc
    return nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches),
                         preset=nncf.QuantizationPreset.MIXED)
