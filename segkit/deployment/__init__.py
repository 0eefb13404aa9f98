"""Models out of segkit: export to ONNX / TorchScript / OpenVINO, run exported files and ``test_cfg.backend``
copies with one session class per runtime, check them against PyTorch. The runtimes (onnx, onnxruntime,
openvino, nncf) are imported only when used: pip install -e '.[deploy]'."""
from .backend_segmentor import BackendSegmentor, is_exported_model, use_exported_model
from .export import FORMATS, default_shape, export_model, export_onnx, output_path
from .sessions import OnnxRuntimeSession, OpenVINOSession, TorchScriptSession, open_session
from .verify import compare_with_pytorch, format_report
from .wrapper import DeployableSegmentor

__all__ = ['BackendSegmentor', 'DeployableSegmentor', 'FORMATS', 'OnnxRuntimeSession', 'OpenVINOSession',
           'TorchScriptSession', 'compare_with_pytorch', 'default_shape', 'export_model', 'export_onnx',
           'format_report', 'is_exported_model', 'open_session', 'output_path', 'use_exported_model']
