"""Semantic segmentation metric: aAcc, mIoU, mAcc (and optionally mDice, mFscore) over a whole dataset."""
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmengine.utils import mkdir_or_exist

from segkit.registry import METRICS
from .metric_utils import (SUPPORTED_METRICS, foreground_scores, format_table, intersect_and_union, stacked_areas,
                           summarize)
from .prediction_writer import resolve_output_format, write_prediction

__all__ = ['IoUMetric', 'intersect_and_union', 'summarize']


def _pixel_data(data_sample: dict, key: str) -> Optional[torch.Tensor]:
    """``data_sample[key]`` as a HxW tensor, whether it is PixelData, its dict form, or a bare tensor."""
    field = data_sample.get(key)
    if field is None:
        return None
    if isinstance(field, BaseDataElement):
        field = field.data
    elif isinstance(field, dict):
        field = field['data']
    return torch.as_tensor(field).squeeze()


def labelled_predictions(data_samples: Sequence, metric_name: str) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
    """``(pred, label)`` HxW tensors, on the prediction's device, of each data sample (dict or SegDataSample)."""
    for data_sample in data_samples:
        if isinstance(data_sample, BaseDataElement):
            data_sample = data_sample.to_dict()
        pred, label = _pixel_data(data_sample, 'pred_sem_seg'), _pixel_data(data_sample, 'gt_sem_seg')
        if pred is None or label is None:
            raise KeyError(f'{metric_name} needs pred_sem_seg and gt_sem_seg in every data sample')
        yield pred, label.to(pred.device)


def class_names(metric: BaseMetric) -> List[str]:
    """A metric's class names: from its ``dataset_meta``, else ``'0'``, ``'1'``, ... for its ``num_classes``."""
    classes = (metric.dataset_meta or {}).get('classes')
    if classes is not None:
        return list(classes)
    if metric.num_classes is None:
        raise ValueError(f'{type(metric).__name__} needs the class names: run it in a Runner whose dataset has '
                         "metainfo['classes'], set metric.dataset_meta, or pass num_classes")
    return [str(i) for i in range(metric.num_classes)]


@METRICS.register_module()
class IoUMetric(BaseMetric):
    """Accumulates per-class intersection/union areas image by image and reports dataset-wide percentages.

    Each ``process`` call stores four small per-class area tensors per image, so mmengine's ``collect_results``
    gathers them from every rank and the sums (hence the metrics) do not depend on how images were split.

    On 2-class (binary) data the summary also holds the foreground's (class 1) ``fg_IoU``, ``fg_Dice``,
    ``fg_Precision`` and ``fg_Recall``, the figures binary segmentation is reported with; they and the 2-class
    table are the same whether the model is a one-channel sigmoid (``num_classes=1``) or a 2-class softmax.

    Args:
        ignore_index: label value excluded from every count.
        iou_metrics: any of ``'mIoU'``, ``'mDice'``, ``'mFscore'``; ``aAcc`` and ``mAcc`` are always reported.
        nan_to_num: if set, replaces NaN per-class values (which then count in the means).
        beta: weight of recall in the F-score.
        num_classes: used only when no ``dataset_meta`` (with ``classes``) is set.
        output_dir: if set, each prediction is also written there as ``<image stem>.png``.
        output_format: how those PNGs encode classes: ``'auto'`` (the dataset's submission format: Cityscapes
            labelIds, VOC palette PNGs, ADE20K 1-150; else class indices), ``'train_ids'``, ``'label_ids'`` or
            ``'palette'`` (see :mod:`segkit.evaluation.prediction_writer`).
        format_only: only write predictions (needs ``output_dir``); no metric is computed.
        collect_device: ``'cpu'`` or ``'gpu'``, where results are gathered across ranks.
        prefix: prepended to metric names as ``'<prefix>/mIoU'``.
    """

    def __init__(self, *, ignore_index: int = 255, iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[float] = None, beta: float = 1.0, num_classes: Optional[int] = None,
                 output_dir: Optional[str] = None, output_format: str = 'auto', format_only: bool = False,
                 collect_device: str = 'cpu', prefix: Optional[str] = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        if isinstance(iou_metrics, str):
            iou_metrics = (iou_metrics, )
        unknown = [m for m in iou_metrics if m not in SUPPORTED_METRICS]
        if unknown:
            raise KeyError(f'unsupported iou_metrics {unknown}; choose from {list(SUPPORTED_METRICS)}')
        if format_only and output_dir is None:
            raise ValueError('format_only=True needs an output_dir to write the predictions to')
        self.ignore_index = ignore_index
        self.iou_metrics = tuple(iou_metrics)
        self.nan_to_num = nan_to_num
        self.beta = beta
        self.num_classes = num_classes
        self.output_dir = output_dir
        self.output_format = output_format
        resolve_output_format(output_format, None)  # reject unknown names at build time
        self.format_only = format_only
        if output_dir is not None and is_main_process():
            mkdir_or_exist(output_dir)

    @property
    def class_names(self) -> List[str]:
        return class_names(self)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store the class areas of each sample (a dict, as mmengine's Evaluator passes, or a SegDataSample)."""
        num_classes = len(self.class_names)
        for data_sample in data_samples:
            if isinstance(data_sample, BaseDataElement):
                data_sample = data_sample.to_dict()
            pred = _pixel_data(data_sample, 'pred_sem_seg')
            if pred is None:
                raise KeyError('IoUMetric needs pred_sem_seg in every data sample')
            if self.output_dir is not None:
                self._write_prediction(pred, data_sample)
            if self.format_only:
                continue
            label = _pixel_data(data_sample, 'gt_sem_seg')
            if label is None:
                raise KeyError(f"no gt_sem_seg for {data_sample.get('img_path', 'a sample')}: load annotations "
                               'in the pipeline, or set format_only=True to only write predictions')
            areas = stacked_areas(pred=pred, label=label, num_classes=num_classes, ignore_index=self.ignore_index)
            self.results.append(tuple(areas.cpu()))  # one device->host copy per image

    def _write_prediction(self, pred: torch.Tensor, data_sample: dict) -> None:
        stem = osp.splitext(osp.basename(data_sample['img_path']))[0]
        write_prediction(pred.cpu().numpy(), osp.join(self.output_dir, f'{stem}.png'), self.output_format,
                         self.dataset_meta)

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Sum the stored areas, log a per-class table and return aAcc, mIoU, mAcc, ... in percent."""
        if self.format_only:
            print_log(f'predictions written to {self.output_dir}; no metrics computed (format_only)',
                      logger='current')
            return {}
        if not results:
            raise ValueError('IoUMetric got no results: did the loop call process()?')
        totals = [torch.stack([r[i] for r in results]).sum(dim=0) for i in range(4)]
        summary, per_class = summarize(total_intersect=totals[0], total_union=totals[1], total_pred=totals[2],
                                       total_label=totals[3], iou_metrics=self.iou_metrics,
                                       nan_to_num=self.nan_to_num, beta=self.beta)
        table = format_table(per_class=per_class, class_names=self.class_names)
        print_log('per class results:\n' + table, logger='current')
        if len(self.class_names) == 2:
            foreground = foreground_scores(total_intersect=totals[0], total_pred=totals[2], total_label=totals[3])
            summary.update(foreground)
            print_log(f'foreground ({self.class_names[1]}): '
                      + ', '.join(f'{k[3:]} {v:.2f}' for k, v in foreground.items()), logger='current')
        return summary
