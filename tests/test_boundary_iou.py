"""Trimap (boundary band) mIoU on constructed masks, beside IoUMetric."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from segkit.evaluation import BoundaryIoUMetric, boundary_band
from segkit.structures import SegDataSample

# 6x6: class 0 in columns 0-2, class 1 in columns 3-5; the prediction makes class 0 one column too wide
LABEL = torch.tensor([[0, 0, 0, 1, 1, 1]] * 6)
PRED = torch.tensor([[0, 0, 0, 0, 1, 1]] * 6)


def sample(pred, label):
    s = SegDataSample(metainfo=dict(img_path='x.png'))
    s.pred_sem_seg = PixelData(data=pred[None])
    s.gt_sem_seg = PixelData(data=label[None])
    return s.to_dict()


def test_band_around_a_single_pixel():
    label = torch.zeros(5, 5, dtype=torch.long)
    label[2, 2] = 1
    edge = boundary_band(label, 0)
    assert torch.nonzero(edge).tolist() == [[1, 2], [2, 1], [2, 2], [2, 3], [3, 2]]
    band = boundary_band(label, 1)  # 3x3 squares around those five: all but the four corners
    assert int(band.sum()) == 21 and not band[0, 0] and not band[4, 4] and band[0, 1] and band[2, 0]
    assert bool(boundary_band(label, 2).all())
    assert not boundary_band(torch.zeros(4, 4, dtype=torch.long), 3).any()  # one class: no boundary


def test_trimap_miou_hand_values():
    metric = BoundaryIoUMetric(widths=(0, 1, 3))
    metric.dataset_meta = dict(classes=('left', 'right'))
    metric.process(None, [sample(PRED, LABEL)])
    results = metric.compute_metrics(metric.results)
    # width 0, columns 2-3: left I 6 U 12, right I 0 U 6
    # width 1, columns 1-4: left I 12 U 18, right I 6 U 12
    # width 3, every pixel: left I 18 U 24, right I 12 U 18
    assert results == pytest.approx({'mIoU_trimap0': 25.0, 'mIoU_trimap1': (200 / 3 + 50) / 2,
                                     'mIoU_trimap3': (75 + 200 / 3) / 2})


def test_ignored_pixels_bound_but_do_not_count():
    label = LABEL.clone()
    label[:, 0] = 255  # a void column: its edge with class 0 is a boundary too
    metric = BoundaryIoUMetric(widths=(0, ), num_classes=2)
    metric.process(None, [sample(PRED, label)])
    # band: columns 0, 1 (void edge) and 2, 3; column 0 is ignored -> column 1 is a correct left pixel
    # left: I 6 (col 1) + 6 (col 2) = 12, P 18, L 12 -> U 18; right: I 0, L 6, P 0 -> U 6
    assert metric.compute_metrics(metric.results)['mIoU_trimap0'] == pytest.approx((200 / 3 + 0) / 2)


def test_runs_beside_iou_metric_in_one_evaluator():
    evaluator = Evaluator([dict(type='IoUMetric'), dict(type='BoundaryIoUMetric', widths=(1, 3))])
    evaluator.dataset_meta = dict(classes=('left', 'right'))
    evaluator.process([sample(PRED, LABEL)])
    results = evaluator.evaluate(1)
    assert set(results) == {'aAcc', 'mIoU', 'mAcc', 'mIoU_trimap1', 'mIoU_trimap3',  # and, 2 classes, class 1's:
                            'fg_IoU', 'fg_Dice', 'fg_Precision', 'fg_Recall'}
    assert results['mIoU'] == pytest.approx(results['mIoU_trimap3'])  # width 3 covers the whole 6x6 image
    with pytest.raises(ValueError, match='widths'):
        BoundaryIoUMetric(widths=())
