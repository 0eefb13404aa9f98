from .inference import inference_model, init_model, show_result
from .result import SegmentationResult

__all__ = ['SegmentationResult', 'init_model', 'inference_model', 'show_result']
