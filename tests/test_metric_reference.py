"""IoUMetric's counting against a plain numpy reference on random maps: every path (the narrowed int16/int32 fast
path, the clamped one, the general one with negative labels or out-of-range predictions), several class counts
(past 255, and where ``label * num_classes + pred`` no longer fits int32) and label dtypes."""
import math

import numpy as np
import pytest
import torch

from segkit.evaluation import IoUMetric, confusion_matrix, intersect_and_union, metric_utils, summarize
from segkit.evaluation.metric_utils import foreground_scores, index_dtype


def reference_counts(pred, label, num_classes, ignore_index):
    """k x k confusion (rows label, columns prediction) and per-label-class misses (predictions outside [0, k))
    of the label pixels that count, by masking and one numpy bincount."""
    k = num_classes
    pred = np.asarray(pred, dtype=np.int64).ravel()
    label = np.asarray(label, dtype=np.int64).ravel()
    keep = (label >= 0) & (label < k) & (label != ignore_index)
    pred, label = pred[keep], label[keep]
    hit = (pred >= 0) & (pred < k)
    confusion = np.bincount(label[hit] * k + pred[hit], minlength=k * k).reshape(k, k)
    misses = np.bincount(label[~hit], minlength=k)
    return confusion, misses


def reference_areas(pred, label, num_classes, ignore_index):
    confusion, misses = reference_counts(pred, label, num_classes, ignore_index)
    inter = np.diagonal(confusion)
    area_pred, area_label = confusion.sum(axis=0), confusion.sum(axis=1) + misses
    return inter, area_pred + area_label - inter, area_pred, area_label


def random_maps(g, shape, num_classes, *, label_high, ignore_value=255, lowest_label=0, pred_low=0, pred_high=None,
                dtype=torch.int64):
    """A label map with values in [lowest_label, label_high) and ~10 % ``ignore_value``, and a prediction in
    [pred_low, pred_high) (default [0, num_classes))."""
    label = torch.randint(lowest_label, label_high, shape, generator=g)
    label[torch.rand(shape, generator=g) < 0.1] = ignore_value
    pred = torch.randint(pred_low, pred_high or num_classes, shape, generator=g)
    return pred.to(dtype), label.to(dtype)


CASES = [  # (num_classes, ignore_index, label values below, ignore value, lowest label, lowest pred, pred below, dtype)
    (21, 255, 21, 255, 0, 0, None, torch.int64),  # the usual: VOC-like, int16 index, rows past k counted
    (21, 255, 21, 255, 0, 0, None, torch.uint8),
    (21, 255, 21, 255, 0, 0, None, torch.int32),
    (21, 0, 21, 255, 0, 0, None, torch.int64),  # ignore_index inside [0, k): its row dropped after the count
    (2, 255, 2, 255, 0, 0, None, torch.int64),  # binary
    (1, 255, 2, 255, 0, 0, None, torch.int64),  # one class, labels >= k present
    (5, 255, 7, 40000, 0, 0, None, torch.int64),  # a label past int16: int32 index, clamped
    (21, 65535, 21, 65535, 0, 0, None, torch.int32),  # 16-bit PNG style ignore value
    (150, 255, 150, 255, 0, 0, None, torch.int64),  # ADE20K: labels clamped (256 * 150 bins would be many)
    (180, 255, 180, 255, 0, 0, None, torch.int64),  # the largest k with an int16 index
    (181, 255, 181, 255, 0, 0, None, torch.int64),  # the smallest k with an int32 index
    (300, 255, 300, 255, 0, 0, None, torch.int64),  # > 255 classes: 255 is then a class, and the ignore_index
    (300, 1000, 300, 255, 0, 0, None, torch.int16),  # > 255 classes, class 255 counted
    (21, 255, 21, 255, -3, 0, None, torch.int64),  # negative labels: general path
    (21, -1, 21, -1, 0, 0, None, torch.int64),  # negative ignore_index: general path
    (21, 255, 21, 255, 0, -2, 23, torch.int64),  # predictions outside [0, k): general path, counted as misses
    (300, 255, 300, 255, 0, 0, 302, torch.int64),
]


@pytest.mark.parametrize('num_classes,ignore_index,label_high,ignore_value,lowest_label,pred_low,pred_high,dtype',
                         CASES)
def test_counts_match_numpy_reference(num_classes, ignore_index, label_high, ignore_value, lowest_label, pred_low,
                                      pred_high, dtype):
    g = torch.Generator().manual_seed(num_classes)
    for shape in [(37, 53), (1, 1, 200, 190), (3, 1)]:  # odd sizes; one above the serial bincount's chunk
        pred, label = random_maps(g, shape, num_classes, label_high=label_high, ignore_value=ignore_value,
                                  lowest_label=lowest_label, pred_low=pred_low, pred_high=pred_high, dtype=dtype)
        want_confusion, _ = reference_counts(pred, label, num_classes, ignore_index)
        got = confusion_matrix(pred=pred, label=label, num_classes=num_classes, ignore_index=ignore_index)
        assert got.dtype == torch.int64 and got.shape == (num_classes, num_classes)
        np.testing.assert_array_equal(got.numpy(), want_confusion)
        areas = intersect_and_union(pred=pred, label=label, num_classes=num_classes, ignore_index=ignore_index)
        for got_area, want_area in zip(areas, reference_areas(pred, label, num_classes, ignore_index)):
            assert got_area.dtype == torch.int64
            np.testing.assert_array_equal(got_area.numpy(), want_area)


def nan_equal(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize('num_classes,ignore_index', [(2, 255), (21, 255), (21, 3), (300, 255)])
def test_metric_results_match_reference(num_classes, ignore_index):
    """IoUMetric's per-class results and summary over several images equal the reference's (binary: with fg_*)."""
    g = torch.Generator().manual_seed(7)
    metric = IoUMetric(num_classes=num_classes, ignore_index=ignore_index, iou_metrics=['mIoU', 'mDice', 'mFscore'])
    totals = [np.zeros(num_classes, np.int64) for _ in range(4)]
    for i in range(4):
        pred, label = random_maps(g, (1, 64 + i, 48), num_classes, label_high=num_classes)
        if i == 3:
            pred[0, 0, :5] = num_classes  # one image with out-of-range predictions
        metric.process(None, [dict(img_path=f'{i}.png', pred_sem_seg=dict(data=pred), gt_sem_seg=dict(data=label))])
        for total, area in zip(totals, reference_areas(pred, label, num_classes, ignore_index)):
            total += area
    got_totals = [torch.stack([r[i] for r in metric.results]).sum(dim=0) for i in range(4)]
    for got, want in zip(got_totals, totals):
        np.testing.assert_array_equal(got.numpy(), want)
    got_summary = metric.compute_metrics(metric.results)
    want_summary, want_per_class = summarize(total_intersect=totals[0], total_union=totals[1], total_pred=totals[2],
                                             total_label=totals[3], iou_metrics=metric.iou_metrics)
    if num_classes == 2:
        want_summary.update(foreground_scores(total_intersect=totals[0], total_pred=totals[2],
                                              total_label=totals[3]))
        assert set(want_summary) >= {'fg_IoU', 'fg_Dice', 'fg_Precision', 'fg_Recall'}
    assert got_summary.keys() == want_summary.keys()
    assert all(nan_equal(got_summary[key], want_summary[key]) for key in want_summary)
    _, got_per_class = summarize(total_intersect=got_totals[0], total_union=got_totals[1], total_pred=got_totals[2],
                                 total_label=got_totals[3], iou_metrics=metric.iou_metrics)
    for name, values in want_per_class.items():
        np.testing.assert_array_equal(got_per_class[name], values)


def test_index_dtype_from_num_classes():
    """The narrowest dtype that holds (k + 1) * k - 1 (and the largest label before the clamp)."""
    assert index_dtype(21) == torch.int16
    assert index_dtype(180) == torch.int16  # 181 * 180 - 1 = 32579
    assert index_dtype(181) == torch.int32  # 182 * 181 - 1 = 32941
    assert index_dtype(46340) == torch.int32  # 46341 * 46340 - 1 < 2**31
    assert index_dtype(46341) == torch.int64  # 46342 * 46341 - 1 >= 2**31
    assert index_dtype(21, max_label=255) == torch.int16
    assert index_dtype(21, max_label=40000) == torch.int32
    assert index_dtype(21, max_label=2**40) == torch.int64


class _Captured(Exception):
    pass


@pytest.mark.parametrize('num_classes', [46340, 46341, 70000])
def test_flat_index_does_not_overflow_for_large_class_counts(num_classes, monkeypatch):
    """Where label * k + pred nears or passes int32, the index the fast path counts equals the int64 one (the
    count itself, k * k bins, would need gigabytes, so the index is caught before it)."""
    captured = {}

    def capture(index, bins):
        captured['index'], captured['bins'] = index.clone(), bins
        raise _Captured

    monkeypatch.setattr(metric_utils, '_serial_bincount', capture)
    k = num_classes
    label = torch.tensor([[0, k - 1, k - 1, 5], [k - 2, 255, 3 * k, 7]])
    pred = torch.tensor([[k - 1, k - 1, 0, 5], [k - 3, 1, 2, k - 1]])
    with pytest.raises(_Captured):
        confusion_matrix(pred=pred, label=label, num_classes=k)
    index = captured['index']
    assert index.dtype == index_dtype(k, 3 * k)
    want = torch.clamp(label, max=k).view(-1) * k + pred.view(-1)  # int64 throughout
    assert torch.equal(index.to(torch.int64), want)
    assert captured['bins'] == (k + 1) * k and int(want.max()) < captured['bins']


def test_sync_free_count_equals_bincount():
    g = torch.Generator().manual_seed(3)
    index = torch.randint(0, 500, (10000, ), generator=g)
    want = torch.bincount(index, minlength=600)
    assert torch.equal(metric_utils._count_bins(index, 600, sync_free=True), want)
    assert torch.equal(metric_utils._count_bins(index, 600, sync_free=False), want)


def test_general_path_equals_fast_path(monkeypatch):
    """The same maps through both paths (the general one as off the CPU, with index_add_)."""
    g = torch.Generator().manual_seed(5)
    pred, label = random_maps(g, (90, 70), 21, label_high=21)
    fast = metric_utils._fast_counts(pred, label, 21)
    assert fast is not None
    general = metric_utils._general_counts(pred, label, 21, ignore_index=255)
    assert torch.equal(general[:21, :21], fast) and not general[:21, 21].any()
    original = metric_utils._count_bins
    monkeypatch.setattr(metric_utils, '_count_bins', lambda index, bins: original(index, bins, sync_free=True))
    assert torch.equal(metric_utils._general_counts(pred, label, 21, ignore_index=255), general)


def test_float_maps_are_refused():
    with pytest.raises(TypeError, match='integer class indices'):
        intersect_and_union(pred=torch.zeros(4, 4), label=torch.zeros(4, 4, dtype=torch.int64), num_classes=3)


def test_serial_bincount_chunks_add_up(monkeypatch):
    """Chunked (as with more than one torch thread) and whole counts agree, including a short last chunk."""
    g = torch.Generator().manual_seed(4)
    index = torch.randint(0, 700, (3 * metric_utils._SERIAL_CHUNK + 123, ), generator=g, dtype=torch.int32)
    want = torch.bincount(index.long(), minlength=800)
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 2)
    assert torch.equal(metric_utils._serial_bincount(index, 800), want)
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 1)
    assert torch.equal(metric_utils._serial_bincount(index, 800), want)
