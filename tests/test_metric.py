"""IoUMetric and its helpers against a hand-computed example, ignore handling and rank splits."""
import math
import random

import cv2
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from segkit.evaluation import IoUMetric, intersect_and_union, summarize
from segkit.registry import METRICS
from segkit.structures.seg_data_sample import SegDataSample

CLASSES = ('road', 'car', 'tree', 'sky')  # 'sky' appears in neither label nor (counted) prediction
# 4x4 label, bottom-right 2x2 ignored; the prediction puts 'sky' (3) only on ignored pixels.
LABEL = torch.tensor([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [2, 2, 255, 255],
                      [2, 2, 255, 255]])
PRED = torch.tensor([[0, 1, 1, 1],
                     [0, 0, 1, 1],
                     [2, 0, 3, 3],
                     [2, 2, 3, 3]])
# By hand: road I=3 P=4 L=4 U=5; car I=4 P=5 L=4 U=5; tree I=3 P=3 L=4 U=4; sky all 0.
AREAS = ([3, 4, 3, 0], [5, 5, 4, 0], [4, 5, 3, 0], [4, 4, 4, 0])


def sample_dict(pred, label, name='img.jpg'):
    """A data sample as mmengine's Evaluator hands it to metrics (SegDataSample.to_dict())."""
    sample = SegDataSample(metainfo=dict(img_path=name, ori_shape=tuple(label.shape)))
    sample.pred_sem_seg = PixelData(data=pred[None])
    sample.gt_sem_seg = PixelData(data=label[None])
    return sample.to_dict()


def make_metric(**kwargs):
    metric = IoUMetric(prefix='test', **kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    return metric


def reference_areas(pred, label, num_classes, ignore_index):
    """Straightforward masked counting, to check the one-bincount version against."""
    pred, label = pred.numpy().ravel(), label.numpy().ravel()
    keep = (label != ignore_index) & (label >= 0) & (label < num_classes)
    pred, label = pred[keep], label[keep]
    inter = np.array([np.sum((pred == c) & (label == c)) for c in range(num_classes)])
    area_pred = np.array([np.sum(pred == c) for c in range(num_classes)])
    area_label = np.array([np.sum(label == c) for c in range(num_classes)])
    return inter, area_pred + area_label - inter, area_pred, area_label


def test_intersect_and_union_matches_hand_counts():
    areas = intersect_and_union(pred=PRED, label=LABEL, num_classes=4, ignore_index=255)
    assert [a.tolist() for a in areas] == [list(a) for a in AREAS]


@pytest.mark.parametrize('ignore_index,lowest_label,lowest_pred', [(255, 0, 0), (255, -1, -1), (0, 0, 0), (-1, -1, 0)])
def test_intersect_and_union_matches_reference_on_random_maps(ignore_index, lowest_label, lowest_pred):
    g = torch.Generator().manual_seed(1)
    label = torch.randint(lowest_label, 7, (30, 20), generator=g)  # labels >= num_classes are not counted
    label[torch.rand(label.shape, generator=g) < 0.2] = 255
    pred = torch.randint(lowest_pred, 6, (30, 20), generator=g)  # 5 is an out-of-range prediction
    ours = intersect_and_union(pred=pred, label=label, num_classes=5, ignore_index=ignore_index)
    for got, want in zip(ours, reference_areas(pred, label, 5, ignore_index)):
        assert got.tolist() == want.tolist()


def test_metric_values_match_hand_computation():
    metric = make_metric(iou_metrics=['mIoU', 'mDice'])
    metric.process(None, [sample_dict(PRED, LABEL)])
    result = metric.compute_metrics(metric.results)
    assert result['aAcc'] == pytest.approx(100 * 10 / 12)
    assert result['mIoU'] == pytest.approx(100 * (3 / 5 + 4 / 5 + 3 / 4) / 3)  # sky is NaN, not in the mean
    assert result['mAcc'] == pytest.approx(100 * (3 / 4 + 4 / 4 + 3 / 4) / 3)
    assert result['mDice'] == pytest.approx(100 * (6 / 8 + 8 / 9 + 6 / 7) / 3)


def test_class_absent_from_both_is_nan_and_left_out_of_mean():
    summary, per_class = summarize(total_intersect=torch.tensor(AREAS[0]), total_union=torch.tensor(AREAS[1]),
                                   total_pred=torch.tensor(AREAS[2]), total_label=torch.tensor(AREAS[3]))
    assert math.isnan(per_class['IoU'][3]) and math.isnan(per_class['Acc'][3])
    assert per_class['IoU'][:3] == pytest.approx([60.0, 80.0, 75.0])
    assert summary['mIoU'] == pytest.approx(215 / 3)
    # nan_to_num puts the class back into the mean with the given value
    summary0, _ = summarize(total_intersect=torch.tensor(AREAS[0]), total_union=torch.tensor(AREAS[1]),
                            total_pred=torch.tensor(AREAS[2]), total_label=torch.tensor(AREAS[3]), nan_to_num=0)
    assert summary0['mIoU'] == pytest.approx(215 / 4)


def test_fscore_precision_recall():
    _, per_class = summarize(total_intersect=torch.tensor(AREAS[0]), total_union=torch.tensor(AREAS[1]),
                             total_pred=torch.tensor(AREAS[2]), total_label=torch.tensor(AREAS[3]),
                             iou_metrics=('mFscore', ))
    assert per_class['Precision'][:3] == pytest.approx([75.0, 80.0, 100.0])
    assert per_class['Recall'][:3] == pytest.approx([75.0, 100.0, 75.0])
    assert per_class['Fscore'][1] == pytest.approx(100 * 2 * 0.8 * 1.0 / 1.8)


def test_ignored_pixels_never_counted():
    other_pred = PRED.clone()
    other_pred[LABEL == 255] = 0  # whatever is predicted on ignored pixels must not matter
    a = intersect_and_union(pred=PRED, label=LABEL, num_classes=4, ignore_index=255)
    b = intersect_and_union(pred=other_pred, label=LABEL, num_classes=4, ignore_index=255)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert int(a[3].sum()) == int((LABEL != 255).sum())  # total area_label = number of labelled pixels


def random_samples(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        h, w = 8 + i, 11 - i  # different sizes per image
        label = torch.randint(0, 4, (h, w), generator=g)
        label[torch.rand(label.shape, generator=g) < 0.1] = 255
        samples.append(sample_dict(torch.randint(0, 3, (h, w), generator=g), label, f'{i}.jpg'))
    return samples


def test_results_identical_across_rank_splits_and_orders():
    samples = random_samples()
    whole = make_metric()
    whole.process(None, samples)
    expected = whole.compute_metrics(whole.results)
    rank0, rank1 = make_metric(), make_metric()
    rank0.process(None, samples[::2])  # the sampler deals images out round-robin
    rank1.process(None, samples[1::2])
    gathered = rank1.results + rank0.results
    random.Random(0).shuffle(gathered)
    assert make_metric().compute_metrics(gathered) == expected
    assert make_metric().compute_metrics(rank0.results + rank1.results) == expected


def test_evaluator_path_with_seg_data_samples_and_prefix():
    """mmengine's Evaluator converts SegDataSamples to dicts; evaluate() gathers and prefixes."""
    evaluator = Evaluator(dict(type='IoUMetric', prefix='val'))
    evaluator.dataset_meta = dict(classes=CLASSES)
    sample = SegDataSample(metainfo=dict(img_path='a.jpg'))
    sample.pred_sem_seg = PixelData(data=PRED[None])
    sample.gt_sem_seg = PixelData(data=LABEL[None])
    evaluator.process(data_samples=[sample])
    result = evaluator.evaluate(1)
    assert set(result) == {'val/aAcc', 'val/mIoU', 'val/mAcc'}
    assert result['val/mIoU'] == pytest.approx(215 / 3)


def test_table_with_class_names_is_logged(monkeypatch):
    logged = []
    monkeypatch.setattr('segkit.evaluation.iou_metric.print_log', lambda msg, **kw: logged.append(msg))
    metric = make_metric()
    metric.process(None, [sample_dict(PRED, LABEL)])
    metric.compute_metrics(metric.results)
    table = '\n'.join(logged)
    for name in CLASSES + ('IoU', 'Acc'):
        assert name in table
    assert '60.00' in table and '80.00' in table and 'nan' in table


def test_format_only_writes_predictions_and_needs_no_labels(tmp_path):
    metric = make_metric(output_dir=str(tmp_path), format_only=True)
    sample = sample_dict(PRED, LABEL, 'dir/frame_01.jpg')
    del sample['gt_sem_seg']
    metric.process(None, [sample])
    assert metric.compute_metrics(metric.results) == {}
    written = cv2.imread(str(tmp_path / 'frame_01.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(written, PRED.numpy().astype(np.uint8))


def test_errors_are_explained():
    with pytest.raises(ValueError, match='label shape'):
        intersect_and_union(pred=PRED[:3], label=LABEL, num_classes=4)
    with pytest.raises(KeyError, match='mBogus'):
        METRICS.build(dict(type='IoUMetric', iou_metrics=['mBogus']))
    metric = METRICS.build(dict(type='IoUMetric'))  # no dataset_meta and no num_classes
    with pytest.raises(ValueError, match='class names'):
        metric.process(None, [sample_dict(PRED, LABEL)])
