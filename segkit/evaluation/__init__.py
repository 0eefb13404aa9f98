"""Metrics registered in ``segkit.registry.METRICS``."""
from .boundary_iou_metric import BoundaryIoUMetric, boundary_band
from .confusion_matrix_metric import ConfusionMatrixMetric
from .iou_metric import IoUMetric
from .metric_utils import confusion_matrix, format_table, intersect_and_union, summarize
from .prediction_writer import write_prediction

__all__ = ['IoUMetric', 'BoundaryIoUMetric', 'ConfusionMatrixMetric', 'boundary_band', 'confusion_matrix',
           'intersect_and_union', 'summarize', 'format_table', 'write_prediction']
