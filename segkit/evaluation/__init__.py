"""Metrics registered in ``segkit.registry.METRICS``."""
from .iou_metric import IoUMetric
from .metric_utils import format_table, intersect_and_union, summarize

__all__ = ['IoUMetric', 'intersect_and_union', 'summarize', 'format_table']
