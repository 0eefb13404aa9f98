"""Trimap mIoU: mIoU counted only near object boundaries (DeepLab v1/v2 "trimap" experiments; DeepLabv3+,
arXiv:1802.02611, Fig. 5)."""
from typing import Any, Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from prettytable import PrettyTable

from segkit.registry import METRICS
from .iou_metric import class_names, labelled_predictions
from .metric_utils import intersect_and_union, summarize

__all__ = ['BoundaryIoUMetric', 'boundary_band', 'boundary_distance']


def boundary_distance(label: torch.Tensor) -> torch.Tensor:
    """HxW chessboard distance (in pixels, on the CPU) from every pixel to the nearest label boundary pixel.

    A boundary pixel is one whose right or lower neighbour has another label (both pixels of such a pair are
    boundary pixels; ``ignore_index`` counts as a label, so VOC's void outlines bound their objects on both sides).
    One distance transform serves every band width.
    """
    label = label.squeeze().cpu().numpy()
    edge = np.zeros(label.shape, dtype=bool)
    horizontal = label[:, 1:] != label[:, :-1]
    vertical = label[1:] != label[:-1]
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    edge[1:] |= vertical
    edge[:-1] |= vertical
    if not edge.any():
        return torch.full(label.shape, float('inf'))
    return torch.from_numpy(cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_C, 3))


def boundary_band(label: torch.Tensor, width: int) -> torch.Tensor:
    """Boolean HxW band of the pixels within ``width`` pixels (chessboard distance) of a label boundary (see
    :func:`boundary_distance`): ``width=0`` gives the boundary pixels alone, and each extra pixel of width grows the
    band by one pixel on every side (a (2 width + 1)-square dilation)."""
    return boundary_distance(label) <= width


@METRICS.register_module()
class BoundaryIoUMetric(BaseMetric):
    """mIoU over the pixels inside a band of each width around the ground-truth boundaries (see
    :func:`boundary_band`), to run beside :class:`IoUMetric`::

        val_evaluator = [dict(type='IoUMetric'), dict(type='BoundaryIoUMetric', widths=(2, 5, 10, 20, 40))]

    Reports ``mIoU_trimap<w>`` for every width ``w`` and logs a per-class table. Ignored label pixels are not
    counted, inside the band or out.

    Args:
        widths: band half-widths in pixels, at the label (original image) resolution.
        ignore_index: label value excluded from every count.
        num_classes: used only when no ``dataset_meta`` (with ``classes``) is set.
    """

    def __init__(self, *, widths: Sequence[int] = (2, 5, 10, 20, 40), ignore_index: int = 255,
                 num_classes: Optional[int] = None, collect_device: str = 'cpu', prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) < 0:
            raise ValueError(f'BoundaryIoUMetric: widths must be a non-empty list of pixel widths >= 0, got {widths}')
        self.widths = widths
        self.ignore_index = ignore_index
        self.num_classes = num_classes

    @property
    def class_names(self) -> List[str]:
        return class_names(self)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.class_names)
        for pred, label in labelled_predictions(data_samples, type(self).__name__):
            distance = boundary_distance(label).to(pred.device)
            areas = []
            for width in self.widths:
                # pixels outside the band get label num_classes, which intersect_and_union does not count
                in_band = torch.where(distance <= width, label, num_classes)
                areas.append(torch.stack(intersect_and_union(pred=pred, label=in_band, num_classes=num_classes,
                                                             ignore_index=self.ignore_index)))
            self.results.append(torch.stack(areas).cpu())  # widths x 4 x classes

    def compute_metrics(self, results: List[torch.Tensor]) -> Dict[str, float]:
        totals = torch.stack(results).sum(dim=0)
        table = PrettyTable()
        table.add_column('Class', self.class_names)
        metrics = {}
        for width, (inter, union, pred, label) in zip(self.widths, totals):
            summary, per_class = summarize(total_intersect=inter, total_union=union, total_pred=pred,
                                           total_label=label)
            metrics[f'mIoU_trimap{width}'] = summary['mIoU']
            table.add_column(f'IoU trimap {width}px', [f'{v:.2f}' for v in per_class['IoU']])
        print_log('per class IoU within the boundary bands:\n' + table.get_string(), logger='current')
        return metrics
