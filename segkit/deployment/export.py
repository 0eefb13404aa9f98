"""Write a segmentor as ONNX, TorchScript or an OpenVINO IR.

Every format holds :class:`DeployableSegmentor`: ``image`` (N x 3 x H x W float32, BGR 0-255) -> ``logits``
(N x C x H x W float32). A static export fixes N=1 and the ``shape`` it was given; a dynamic one takes any batch
size, height and width.
"""
import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence, Tuple

import torch

from .wrapper import DeployableSegmentor

__all__ = ['FORMATS', 'default_shape', 'export_model', 'output_path']

FORMATS = {'onnx': '.onnx', 'torchscript': '.torchscript', 'openvino': '.xml'}
ONNX_OPSET = 18


def output_path(out_dir: str, name: str, fmt: str) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f'unknown export format {fmt!r}; choose from {sorted(FORMATS)}')
    return Path(out_dir) / f'{name}{FORMATS[fmt]}'


def export_model(model: torch.nn.Module, out_file: str, fmt: str, *, shape: Sequence[int] = (512, 512),
                 dynamic: bool = False, onnx_exporter: str = 'dynamo') -> Path:
    """Export ``model`` (an eval-mode :class:`EncoderDecoder`) to ``out_file`` in ``fmt``.

    ``onnx_exporter``: ``'dynamo'`` (torch.export based, torch's default since 2.9) or ``'torchscript'`` (the
    older tracer, deprecated by torch but faster; the graphs give the same logits here). OpenVINO IR is
    converted from the ONNX graph; the ``.bin`` weights are written beside the ``.xml``.
    """
    if fmt not in FORMATS:
        raise ValueError(f'unknown export format {fmt!r}; choose from {sorted(FORMATS)}')
    left_out = model.inference_options.outside_the_network()
    if left_out:
        warnings.warn(f'exported graphs run the whole image in float32; model.test_cfg {", ".join(left_out)} is not '
                      'part of the export')
    deployable = DeployableSegmentor(model).eval()
    example = torch.rand(1, 3, *shape) * 255
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if fmt == 'onnx':
            export_onnx(deployable, example, out_file, dynamic=dynamic, exporter=onnx_exporter)
        elif fmt == 'torchscript':
            with warnings.catch_warnings():
                warnings.filterwarnings('ignore', category=FutureWarning)  # "torch.jit.trace is deprecated"
                traced = torch.jit.trace(deployable, example)
            traced.save(str(out_file))
        else:
            export_openvino(deployable, example, out_file, dynamic=dynamic, exporter=onnx_exporter)
    return out_file


def export_onnx(module: torch.nn.Module, example: torch.Tensor, out_file: Path, *, dynamic: bool,
                exporter: str = 'dynamo') -> None:
    """Write ``module`` (one image tensor in, one tensor out) as ONNX: input ``image``, output ``logits``.

    ``dynamic`` makes batch, height and width dynamic. The one ONNX exporter of segkit: export files and the
    on-the-fly runtime backends (:mod:`.runtime_net`) both call it.
    """
    if exporter not in ('dynamo', 'torchscript'):
        raise ValueError(f"onnx_exporter must be 'dynamo' or 'torchscript', got {exporter!r}")
    names = dict(input_names=['image'], output_names=['logits'], opset_version=ONNX_OPSET)
    with torch.no_grad():
        if exporter == 'dynamo':
            if not hasattr(getattr(torch.export, 'Dim', None), 'DYNAMIC'):
                raise RuntimeError(f'torch {torch.__version__} predates the torch.export-based ONNX exporter used '
                                   "here (torch >= 2.6); use --onnx-exporter torchscript")
            dims = {0: torch.export.Dim.DYNAMIC, 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
            torch.onnx.export(module, (example,), str(out_file), dynamo=True, external_data=False, verbose=False,
                              dynamic_shapes=(dims, ) if dynamic else None, **names)
        else:
            axes = {0: 'batch', 2: 'height', 3: 'width'}
            with warnings.catch_warnings():
                warnings.filterwarnings('ignore', category=DeprecationWarning)  # "legacy TorchScript-based export"
                torch.onnx.export(module, (example,), str(out_file), dynamo=False,
                                  dynamic_axes={'image': axes, 'logits': axes} if dynamic else None, **names)


def export_openvino(deployable: torch.nn.Module, example: torch.Tensor, out_file: Path, *, dynamic: bool,
                    exporter: str) -> None:
    try:
        import openvino
    except ImportError as exc:
        raise ImportError("OpenVINO export needs the 'openvino' package: pip install -e '.[deploy]'") from exc
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = Path(tmp) / 'model.onnx'
        export_onnx(deployable, example, onnx_file, dynamic=dynamic, exporter=exporter)
        ov_model = openvino.convert_model(os.fspath(onnx_file))
    openvino.save_model(ov_model, os.fspath(out_file), compress_to_fp16=False)


def default_shape(cfg) -> Tuple[int, int]:
    """The training crop size when the config has one, else 512 x 512."""
    crop = cfg.get('crop_size')
    return tuple(int(v) for v in crop) if crop else (512, 512)
