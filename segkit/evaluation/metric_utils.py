"""Pure functions behind :class:`IoUMetric`: per-image class areas, their summary and its table.

They take and return plain tensors/arrays, so tools and tests can use them without a Runner.
"""
import threading
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from prettytable import PrettyTable

__all__ = ['confusion_matrix', 'intersect_and_union', 'stacked_areas', 'index_dtype', 'summarize', 'foreground_scores',
           'format_table', 'SUPPORTED_METRICS']

# Per-class metrics each entry of ``iou_metrics`` adds; 'Acc' (per-class recall) is always reported.
SUPPORTED_METRICS = {'mIoU': ('IoU', ), 'mDice': ('Dice', ), 'mFscore': ('Fscore', 'Precision', 'Recall')}


_scratch = threading.local()

# Below this many elements torch runs a reduction on the calling thread (at::internal::GRAIN_SIZE); bincount's own
# min/max checks over a whole 512x512 map are parallel reductions, which cost more in thread wake-ups (and, on a
# busy machine, in waiting for a descheduled thread) than they save.
_SERIAL_CHUNK = 32768
# Rows of labels >= num_classes the fast path counts rather than clamping the labels to num_classes first (a pass
# that costs more than the bins). At most 2**15, so that int16 (what index_dtype picks for small class counts)
# holds every index.
_MAX_UNCLAMPED_BINS = 2**14


def _scratch_buffer(slot: str, numel: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A flat ``dtype`` buffer of ``numel`` elements, reused across calls of this thread: a fresh multi-megabyte
    tensor per image costs more in page faults than the arithmetic done in it (3.7 vs 0.8 ms for 512x512)."""
    buffers = getattr(_scratch, 'buffers', None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    key = (slot, dtype, device)
    buf = buffers.get(key)
    if buf is None or buf.numel() < numel:  # a new one, not resize_: numpy views of the old pin its storage
        buf = buffers[key] = torch.empty(numel, dtype=dtype, device=device)
    return buf[:numel]


def index_dtype(num_classes: int, max_label: int = 0) -> torch.dtype:
    """The narrowest of int16 / int32 / int64 that holds every ``label * num_classes + pred`` of the fast path
    (labels clamped to ``num_classes``, so up to ``(num_classes + 1) * num_classes - 1``) and, before the clamp,
    labels up to ``max_label``."""
    largest = max((num_classes + 1) * num_classes - 1, max_label)
    for dtype in (torch.int16, torch.int32):
        if largest <= torch.iinfo(dtype).max:
            return dtype
    return torch.int64


def _serial_bincount(index: torch.Tensor, bins: int) -> torch.Tensor:
    """``torch.bincount(index, minlength=bins)`` (``index`` 1-D, values known to lie in ``[0, bins)``), counted on
    the calling thread: chunks below torch's parallel grain keep bincount's min/max reductions serial."""
    if index.numel() <= _SERIAL_CHUNK or torch.get_num_threads() == 1:
        return torch.bincount(index, minlength=bins)
    chunks = index.split(_SERIAL_CHUNK)
    counts = torch.bincount(chunks[0], minlength=bins)
    for chunk in chunks[1:]:
        counts += torch.bincount(chunk, minlength=bins)
    return counts


def _unsigned_max(array: np.ndarray) -> int:
    """The largest value of an integer array read as unsigned: negative values (two's complement) read as larger
    than any non-negative one, so ``0 <= array < n`` holds exactly when the result is below ``n``; one pass."""
    if array.dtype.kind == 'i':
        array = array.view(f'u{array.dtype.itemsize}')
    return int(array.max())


def _fast_counts(pred: torch.Tensor, label: torch.Tensor, num_classes: int) -> Optional[torch.Tensor]:
    """k x k counts (row = label class, column = predicted class, nothing ignored) for CPU integer maps whose
    predictions all lie in ``[0, k)`` and labels are non-negative; ``None`` where that does not hold (the caller
    then takes the general path).

    Two range checks (one unsigned max each), both maps narrowed to the dtype :func:`index_dtype` picks, the flat
    index ``label * k + pred`` built there and counted by one serial bincount: numpy calls and sub-grain torch
    ones, so nothing here waits on a second thread. Labels >= k (e.g. 255) land in rows past k, dropped after the
    count; only when those rows would be many are the labels clamped to k first.
    """
    if pred.device.type != 'cpu' or label.device.type != 'cpu' or pred.numel() == 0:
        return None
    if not (_is_integer(pred) and _is_integer(label)):
        return None
    k = num_classes
    pred_np, label_np = pred.numpy(), label.numpy()
    if _unsigned_max(pred_np) >= k:
        return None  # a negative or out-of-range prediction: the general path counts it as a miss
    max_label = _unsigned_max(label_np)
    if max_label > torch.iinfo(torch.int64).max:
        return None  # a negative label (read as unsigned)
    clamp = max_label >= k and (max_label + 1) * k > _MAX_UNCLAMPED_BINS
    rows = k + 1 if clamp else max(max_label + 1, k)
    dtype = index_dtype(k, max_label)  # holds the labels, and every index below rows * k (see _MAX_UNCLAMPED_BINS)
    index = _scratch_buffer('index', pred.numel(), dtype, pred.device)
    column = _scratch_buffer('column', pred.numel(), dtype, pred.device)
    index_np, column_np = index.numpy().reshape(label_np.shape), column.numpy().reshape(pred_np.shape)
    np.copyto(index_np, label_np, casting='unsafe')  # exact: every value fits dtype
    np.copyto(column_np, pred_np, casting='unsafe')
    if clamp:
        np.minimum(index_np, k, out=index_np)  # labels >= k all go to row k
    np.add(np.multiply(index_np, k, out=index_np), column_np, out=index_np)
    return _serial_bincount(index, rows * k).view(rows, k)[:k]


def _is_integer(values: torch.Tensor) -> bool:
    return not (values.is_floating_point() or values.is_complex() or values.dtype == torch.bool)


def _general_counts(pred: torch.Tensor, label: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """(k+1) x (k+1) counts, row = label class, column = predicted class; row k collects the label pixels that
    must not count, column k the predictions outside ``[0, k)``. Any integer maps, any device; no host sync (off
    the CPU the counts are an ``index_add_``, since ``torch.bincount`` reads its input's range back to the host)."""
    k = num_classes
    for name, values in (('prediction', pred), ('label', label)):
        if values.is_floating_point() or values.is_complex():
            raise TypeError(f'{name} map must hold integer class indices, got {values.dtype}')
    label, pred = label.to(torch.int64), pred.to(torch.int64)
    valid = (label >= 0) & (label < k)
    if 0 <= ignore_index < k:
        valid &= label != ignore_index
    index = torch.where(valid, label, k).mul_(k + 1)
    index.add_(torch.where((pred >= 0) & (pred < k), pred, k))
    return _count_bins(index.view(-1), (k + 1) * (k + 1)).view(k + 1, k + 1)


def _count_bins(index: torch.Tensor, bins: int, sync_free: Optional[bool] = None) -> torch.Tensor:
    """Counts of each value in ``[0, bins)`` of a 1-D int64 ``index`` whose values all lie there; ``sync_free``
    (default: off the CPU, unless deterministic algorithms are on, which may refuse ``index_add_`` there) counts
    with ``index_add_``, which needs no host round trip."""
    if sync_free is None:
        sync_free = index.device.type != 'cpu' and not torch.are_deterministic_algorithms_enabled()
    if not sync_free:
        return torch.bincount(index, minlength=bins)
    ones = torch.ones((), dtype=torch.int64, device=index.device).expand(index.numel())
    return torch.zeros(bins, dtype=torch.int64, device=index.device).index_add_(0, index, ones)


def _confusion_and_misses(pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                          ignore_index: int) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The k x k confusion (row = label class, column = predicted class) and, per label class, the predictions
    outside ``[0, k)`` (``None`` when there are none)."""
    if pred.shape != label.shape:
        raise ValueError(f'prediction shape {tuple(pred.shape)} differs from label shape {tuple(label.shape)}; '
                         'predictions must be at the label (original image) size')
    k = num_classes
    label = label.to(device=pred.device)
    confusion = _fast_counts(pred, label, k)
    if confusion is not None:
        if 0 <= ignore_index < k:
            confusion[ignore_index] = 0  # the fast path counts every label class; drop the ignored one's row
        return confusion, None
    counts = _general_counts(pred, label, k, ignore_index)
    return counts[:k, :k], counts[:k, k]


def confusion_matrix(*, pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                     ignore_index: int = 255) -> torch.Tensor:
    """``num_classes`` x ``num_classes`` int64 pixel counts, rows the label class, columns the predicted class;
    label pixels equal to ``ignore_index`` or outside ``[0, num_classes)`` are not counted."""
    return _confusion_and_misses(pred, label, num_classes, ignore_index)[0]


def stacked_areas(*, pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                  ignore_index: int = 255) -> torch.Tensor:
    """:func:`intersect_and_union`'s four areas as the rows of one 4 x ``num_classes`` int64 tensor."""
    confusion, misses = _confusion_and_misses(pred, label, num_classes, ignore_index)
    area_intersect = confusion.diagonal()
    area_label = confusion.sum(dim=1)
    if misses is not None:
        area_label += misses
    area_pred = confusion.sum(dim=0)
    return torch.stack((area_intersect, area_pred + area_label - area_intersect, area_pred, area_label))


def intersect_and_union(*, pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                        ignore_index: int = 255) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class pixel areas of one prediction against its label map (same shape, any leading 1-dims).

    Returns ``(area_intersect, area_union, area_pred, area_label)``, int64 tensors of length ``num_classes`` on the
    inputs' device. Label pixels equal to ``ignore_index`` or outside ``[0, num_classes)`` are not counted at all.
    A prediction outside ``[0, num_classes)`` on a valid pixel counts in ``area_label`` (it is a miss) but in no
    class's ``area_pred``.
    """
    return tuple(stacked_areas(pred=pred, label=label, num_classes=num_classes, ignore_index=ignore_index))


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
