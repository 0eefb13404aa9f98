"""Pure functions behind :class:`IoUMetric`: per-image class areas, their summary and its table.

They take and return plain tensors/arrays, so tools and tests can use them without a Runner.
"""
import threading
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from prettytable import PrettyTable

__all__ = ['confusion_matrix', 'intersect_and_union', 'summarize', 'foreground_scores', 'format_table',
           'SUPPORTED_METRICS']

# Per-class metrics each entry of ``iou_metrics`` adds; 'Acc' (per-class recall) is always reported.
SUPPORTED_METRICS = {'mIoU': ('IoU', ), 'mDice': ('Dice', ), 'mFscore': ('Fscore', 'Precision', 'Recall')}


_scratch = threading.local()


def _index_buffer(like: torch.Tensor) -> torch.Tensor:
    """An int64 buffer shaped like ``like``, reused across calls of this thread: a fresh multi-megabyte tensor per
    image costs more in page faults than the arithmetic done in it (3.7 vs 0.8 ms for 512x512, one thread)."""
    buf = getattr(_scratch, 'buffer', None)
    if buf is None or buf.device != like.device:
        buf = torch.empty(0, dtype=torch.int64, device=like.device)
    if buf.numel() < like.numel():
        buf.resize_(like.numel())
    _scratch.buffer = buf
    return buf[:like.numel()].view(like.shape)


def _confusion_with_misses(pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                           ignore_index: int) -> torch.Tensor:
    """k x (k+1) counts: row = label class, column = predicted class, column k = predictions outside [0, k)."""
    if pred.shape != label.shape:
        raise ValueError(f'prediction shape {tuple(pred.shape)} differs from label shape {tuple(label.shape)}; '
                         'predictions must be at the label (original image) size')
    k = num_classes
    # One bincount over a (k+1)x(k+1) confusion matrix; row/column k collects the pixels that must not count.
    # Sending them there (clamp/where) is several times faster than boolean-mask indexing, and the index is built
    # in place in one reused buffer.
    label = label.to(device=pred.device)
    label_min, label_max = (v.item() for v in torch.aminmax(label))
    pred_min, pred_max = (v.item() for v in torch.aminmax(pred))
    index = _index_buffer(label)
    if label_min >= 0 and not 0 <= ignore_index < k:  # the usual case: only labels >= k (e.g. 255) to drop
        torch.clamp(label, max=k, out=index)
    else:
        valid = (label >= 0) & (label < k)
        if 0 <= ignore_index < k:
            valid &= label != ignore_index
        index.copy_(torch.where(valid, label, k))  # the rarer case: negative labels or an ignore_index < k
    index.mul_(k + 1)
    if pred_min >= 0 and pred_max < k:
        index.add_(pred)
    else:
        index.add_(torch.where((pred >= 0) & (pred < k), pred.to(torch.int64), k))
    confusion = torch.bincount(index.view(-1), minlength=(k + 1) * (k + 1))
    return confusion.view(k + 1, k + 1)[:k]  # drop the row of uncounted label pixels


def confusion_matrix(*, pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                     ignore_index: int = 255) -> torch.Tensor:
    """``num_classes`` x ``num_classes`` int64 pixel counts, rows the label class, columns the predicted class;
    label pixels equal to ``ignore_index`` or outside ``[0, num_classes)`` are not counted."""
    return _confusion_with_misses(pred, label, num_classes, ignore_index)[:, :num_classes]


def intersect_and_union(*, pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                        ignore_index: int = 255) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class pixel areas of one prediction against its label map (same shape, any leading 1-dims).

    Returns ``(area_intersect, area_union, area_pred, area_label)``, int64 tensors of length ``num_classes`` on the
    inputs' device. Label pixels equal to ``ignore_index`` or outside ``[0, num_classes)`` are not counted at all.
    A prediction outside ``[0, num_classes)`` on a valid pixel counts in ``area_label`` (it is a miss) but in no
    class's ``area_pred``.
    """
    confusion = _confusion_with_misses(pred, label, num_classes, ignore_index)
    area_intersect = confusion.diagonal()
    area_label = confusion.sum(dim=1)
    area_pred = confusion[:, :num_classes].sum(dim=0)
    area_union = area_pred + area_label - area_intersect
    return area_intersect, area_union, area_pred, area_label


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division giving NaN where the denominator is zero."""
    numerator = numerator.astype(np.float64)
    denominator = denominator.astype(np.float64)
    out = np.full_like(numerator, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def summarize(*, total_intersect, total_union, total_pred, total_label, iou_metrics: Sequence[str] = ('mIoU', ),
              nan_to_num: Optional[float] = None,
              beta: float = 1.0) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """Turn dataset-wide class areas into ``(summary, per_class)``, both in percent.

    ``summary`` holds ``aAcc`` (correct / labelled pixels), ``mAcc`` and ``m<Name>`` for every requested metric;
    ``per_class`` maps ``Acc``, ``IoU``, ``Dice``, ``Fscore``, ``Precision``, ``Recall`` (as requested) to arrays.
    A per-class value whose denominator is zero (e.g. IoU of a class absent from both labels and predictions) is
    NaN and left out of the mean, unless ``nan_to_num`` replaces it, in which case the replacement is averaged.
    """
    unknown = [m for m in iou_metrics if m not in SUPPORTED_METRICS]
    if unknown:
        raise KeyError(f'unsupported iou_metrics {unknown}; choose from {list(SUPPORTED_METRICS)}')
    inter, union, pred, label = (np.asarray(torch.as_tensor(a).cpu(), dtype=np.float64)
                                 for a in (total_intersect, total_union, total_pred, total_label))
    per_class: Dict[str, np.ndarray] = {}
    if 'mIoU' in iou_metrics:
        per_class['IoU'] = _divide(inter, union)
    per_class['Acc'] = _divide(inter, label)
    if 'mDice' in iou_metrics:
        per_class['Dice'] = _divide(2 * inter, pred + label)
    if 'mFscore' in iou_metrics:
        precision = _divide(inter, pred)
        recall = _divide(inter, label)
        per_class['Fscore'] = _divide((1 + beta**2) * precision * recall, beta**2 * precision + recall)
        per_class['Precision'] = precision
        per_class['Recall'] = recall
    if nan_to_num is not None:  # replaces the fraction, as MMSegmentation does, so 1 reads as 100 %
        per_class = {name: np.nan_to_num(values, nan=nan_to_num) for name, values in per_class.items()}
    per_class = {name: values * 100 for name, values in per_class.items()}

    summary: Dict[str, float] = {'aAcc': float(_divide(inter.sum(keepdims=True), label.sum(keepdims=True))[0] * 100)}
    for name, values in per_class.items():
        # an all-NaN column has no mean; say so with NaN rather than numpy's RuntimeWarning
        summary['m' + name] = float(np.nanmean(values)) if not np.isnan(values).all() else float('nan')
    return summary, per_class


def foreground_scores(*, total_intersect, total_pred, total_label, foreground: int = 1) -> Dict[str, float]:
    """IoU, Dice, precision and recall of one class (the foreground of binary data, label 1), in percent, under
    the keys ``fg_IoU``, ``fg_Dice``, ``fg_Precision``, ``fg_Recall`` (NaN where a denominator is zero)."""
    inter, pred, label = (float(torch.as_tensor(a)[foreground]) for a in (total_intersect, total_pred, total_label))
    ratios = dict(IoU=(inter, pred + label - inter), Dice=(2 * inter, pred + label), Precision=(inter, pred),
                  Recall=(inter, label))
    return {f'fg_{name}': 100 * num / den if den else float('nan') for name, (num, den) in ratios.items()}


def format_table(*, per_class: Dict[str, np.ndarray], class_names: Sequence[str]) -> str:
    """A per-class table (one row per class, values with 2 decimals) as text."""
    table = PrettyTable()
    table.add_column('Class', list(class_names))
    for name, values in per_class.items():
        table.add_column(name, [f'{v:.2f}' for v in values])
    return table.get_string()
