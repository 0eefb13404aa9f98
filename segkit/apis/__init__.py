from .inference import inference_model, init_model, show_result
from .pretrained import from_pretrained
from .result import SegmentationResult

__all__ = ['SegmentationResult', 'from_pretrained', 'init_model', 'inference_model', 'show_result']
