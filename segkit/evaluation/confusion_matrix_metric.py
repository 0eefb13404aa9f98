"""The dataset-wide confusion matrix, saved as an array and labelled heat maps (``tools/test.py
--confusion-matrix DIR``)."""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from segkit.registry import METRICS
from segkit.visualization.confusion_matrix import plot_confusion_matrix
from .iou_metric import class_names, labelled_predictions
from .metric_utils import confusion_matrix

__all__ = ['ConfusionMatrixMetric']


@METRICS.register_module()
class ConfusionMatrixMetric(BaseMetric):
    """Sum the per-image confusion matrices (rows ground truth, columns prediction, ignored pixels left out) and
    write to ``output_dir``: ``confusion_matrix.npy`` (int64 pixel counts), ``confusion_matrix.png`` (counts) and
    ``confusion_matrix_normalized.png`` (each row in percent of its pixels, so the diagonal is per-class recall),
    plus ``classes.txt``. Reports no metric.

    Each rank keeps one running matrix, so memory does not grow with the number of images; the matrix of its
    latest image is kept apart until :meth:`evaluate`. With N ranks the sampler pads the dataset to a multiple of N
    by repeating images, and mmengine's ``collect_results`` drops the padding by cutting the interleaved list of
    per-image results to the dataset's size; one running matrix per rank cannot be cut, so each rank drops its
    own padding instead: its k-th image is number ``k * N + rank`` of that interleaved order (the order
    ``DefaultSampler`` hands out and ``collect_results`` assumes), and padding is any number >= the dataset's size,
    which can only be a rank's last image.
    """

    def __init__(self, *, output_dir: str, ignore_index: int = 255, num_classes: Optional[int] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.output_dir = output_dir
        self.ignore_index = ignore_index
        self.num_classes = num_classes
        self._reset_counts()

    def _reset_counts(self) -> None:
        self._total: Optional[torch.Tensor] = None  # every image of this rank but the latest
        self._latest: Optional[torch.Tensor] = None
        self._images = 0

    @property
    def class_names(self) -> List[str]:
        return class_names(self)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.class_names)
        for pred, label in labelled_predictions(data_samples, type(self).__name__):
            matrix = confusion_matrix(pred=pred, label=label, num_classes=num_classes,
                                      ignore_index=self.ignore_index).cpu()
            if self._latest is not None:
                self._total = self._latest if self._total is None else self._total + self._latest
            self._latest = matrix
            self._images += 1

    def evaluate(self, size: int) -> dict:
        """Sum this rank's images but the sampler's padding, then collect and compute as mmengine does."""
        rank, world_size = get_dist_info()
        total = self._total
        if self._latest is not None and (self._images - 1) * world_size + rank < size:
            total = self._latest if total is None else total + self._latest
        if total is None:  # no image of its own on this rank: contribute zeros
            total = torch.zeros(len(self.class_names), len(self.class_names), dtype=torch.int64)
        self.results = [total]
        self._reset_counts()
        return super().evaluate(size)

    def compute_metrics(self, results: List[torch.Tensor]) -> Dict[str, float]:
        matrix = torch.stack(results).sum(dim=0).numpy()
        os.makedirs(self.output_dir, exist_ok=True)
        np.save(osp.join(self.output_dir, 'confusion_matrix.npy'), matrix)
        with open(osp.join(self.output_dir, 'classes.txt'), 'w', encoding='utf-8') as f:
            f.write('\n'.join(self.class_names) + '\n')
        plot_confusion_matrix(matrix, self.class_names, osp.join(self.output_dir, 'confusion_matrix.png'))
        plot_confusion_matrix(matrix, self.class_names, osp.join(self.output_dir, 'confusion_matrix_normalized.png'),
                              normalize=True)
        print_log(f'confusion matrix ({len(matrix)} classes, rows ground truth) written to {self.output_dir}',
                  logger='current')
        return {}
