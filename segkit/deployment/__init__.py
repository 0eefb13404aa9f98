"""Models out of segkit: export to ONNX / TorchScript / OpenVINO, run the exported files, check them against
PyTorch. The runtimes (onnx, onnxruntime, openvino) are imported only when used: pip install -e '.[deploy]'."""
from .backend_segmentor import BackendSegmentor, is_exported_model, use_exported_model
from .backends import load_backend
from .export import FORMATS, default_shape, export_model, output_path
from .verify import compare_with_pytorch, format_report
from .wrapper import DeployableSegmentor

__all__ = ['BackendSegmentor', 'DeployableSegmentor', 'FORMATS', 'compare_with_pytorch', 'default_shape',
           'export_model', 'format_report', 'is_exported_model', 'load_backend', 'output_path',
           'use_exported_model']
