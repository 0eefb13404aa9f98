"""Predictions in submission formats, the confusion matrix and its heat maps, and tools/test.py's flags for both."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from PIL import Image

from segkit.datasets import ADE20KDataset, CityscapesDataset, PascalVOCDataset
from segkit.datasets.cityscapes import CITYSCAPES_LABELS
from segkit.evaluation import ConfusionMatrixMetric, write_prediction
from segkit.evaluation.test_outputs import add_test_outputs
from segkit.structures import SegDataSample

REPO = Path(__file__).resolve().parents[1]
PRED = np.array([[0, 1, 2], [18, 13, 0]], np.uint8)


def read(path):
    image = Image.open(path)
    return image, np.array(image)


def test_cityscapes_predictions_are_label_ids(tmp_path):
    write_prediction(PRED, str(tmp_path / 'c.png'), 'auto', CityscapesDataset.METAINFO)
    image, ids = read(tmp_path / 'c.png')
    assert image.mode == 'L' and ids.tolist() == [[7, 8, 11], [33, 26, 7]]  # road, sidewalk, building; bicycle, car
    by_name = {label.name: label.label_id for label in CITYSCAPES_LABELS}
    assert [by_name[CityscapesDataset.METAINFO['classes'][i]] for i in (0, 1, 2, 18, 13)] == [7, 8, 11, 33, 26]


def test_voc_predictions_are_palette_pngs(tmp_path):
    write_prediction(PRED[:, :3] % 21, str(tmp_path / 'v.png'), 'auto', PascalVOCDataset.METAINFO)
    image, indices = read(tmp_path / 'v.png')
    assert image.mode == 'P' and indices.tolist() == (PRED[:, :3] % 21).tolist()
    palette = image.getpalette()
    assert palette[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]  # background, aeroplane, bicycle: VOC's colour map
    assert palette[15 * 3:16 * 3] == [192, 128, 128]  # person


def test_ade20k_predictions_count_from_one_and_train_ids_stay(tmp_path):
    write_prediction(PRED, str(tmp_path / 'a.png'), 'auto', ADE20KDataset.METAINFO)
    assert read(tmp_path / 'a.png')[1].tolist() == (PRED + 1).tolist()
    write_prediction(PRED, str(tmp_path / 't.png'), 'train_ids', CityscapesDataset.METAINFO)
    assert read(tmp_path / 't.png')[1].tolist() == PRED.tolist()
    write_prediction(PRED, str(tmp_path / 'n.png'), 'auto', dict(classes=('a', 'b')))  # no format: class indices
    assert read(tmp_path / 'n.png')[1].tolist() == PRED.tolist()
    with pytest.raises(ValueError, match="needs dataset_meta\\['label_ids'\\]"):
        write_prediction(PRED, str(tmp_path / 'x.png'), 'label_ids', dict(classes=('a', 'b')))
    with pytest.raises(ValueError, match='unknown output_format'):
        write_prediction(PRED, str(tmp_path / 'x.png'), 'labelIds', None)


def sample(pred, label):
    s = SegDataSample(metainfo=dict(img_path='x.png'))
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.as_tensor(label)[None])
    return s.to_dict()


def test_confusion_matrix_metric_counts_and_writes_heat_maps(tmp_path):
    metric = ConfusionMatrixMetric(output_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=('road', 'car', 'sky'))
    label = np.array([[0, 0, 1, 1], [2, 2, 255, 255]])
    metric.process(None, [sample(np.array([[0, 1, 1, 1], [2, 0, 2, 2]]), label)])
    metric.process(None, [sample(np.array([[0, 0, 0, 1], [2, 2, 1, 1]]), label)])
    assert metric._total.shape == metric._latest.shape == (3, 3)  # running matrices, not one per image
    assert metric.evaluate(2) == {}
    matrix = np.load(tmp_path / 'confusion_matrix.npy')
    # rows = ground truth: road -> road 3, car 1; car -> road 1, car 3; sky -> road 1, sky 3; ignored never counted
    assert matrix.tolist() == [[3, 1, 0], [1, 3, 0], [1, 0, 3]]
    assert (tmp_path / 'classes.txt').read_text().split() == ['road', 'car', 'sky']
    raw = np.array(Image.open(tmp_path / 'confusion_matrix.png'))
    normalised = np.array(Image.open(tmp_path / 'confusion_matrix_normalized.png'))
    assert raw.shape[0] >= 500 and raw.shape[1] >= 500 and not np.array_equal(raw, normalised)


def test_test_outputs_go_to_the_iou_metric_and_add_the_confusion_metric(tmp_path):
    cfg = Config(dict(test_evaluator=[dict(type='IoUMetric'), dict(type='BoundaryIoUMetric', widths=[2])]))
    add_test_outputs(cfg, out_dir=str(tmp_path / 'p'), out_format='palette', confusion_dir=str(tmp_path / 'cm'))
    iou, boundary, confusion = cfg.test_evaluator
    assert iou.output_dir == str(tmp_path / 'p') and iou.output_format == 'palette' and 'output_dir' not in boundary
    assert confusion.type == 'ConfusionMatrixMetric' and confusion.output_dir == str(tmp_path / 'cm')
    with pytest.raises(KeyError, match='has none'):
        add_test_outputs(Config(dict(test_evaluator=dict(type='BoundaryIoUMetric'))), out_dir='x')


def test_test_tool_writes_confusion_matrix_and_palette_predictions(tmp_path):
    sys.path.insert(0, str(REPO / 'tools'))
    import test as test_tool
    from mmengine.registry import MODELS
    config = tmp_path / 'tiny.py'
    config.write_text(f'''
_base_ = [{str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py')!r}]
model = dict(data_preprocessor=dict(size=(32, 32)), backbone=dict(stem_channels=8, base_channels=8),
             decode_head=dict(in_channels=64, channels=8, low_level_in_channels=8, low_level_channels=4),
             auxiliary_head=dict(in_channels=32, channels=4))
test_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root={str(tmp_path / 'shapes')!r}, num_train=1, num_val=3, img_size=32))
test_evaluator = [dict(type='IoUMetric'), dict(type='BoundaryIoUMetric', widths=[1, 4])]
default_hooks = dict(visualization=dict(draw=False))
''')
    cfg = Config.fromfile(str(config))
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, tmp_path / 'model.pth')
    metrics = test_tool.main([str(config), str(tmp_path / 'model.pth'), '--work-dir', str(tmp_path / 'work'),
                              '--out', str(tmp_path / 'preds'), '--out-format', 'palette',
                              '--confusion-matrix', str(tmp_path / 'cm')])
    assert {'mIoU', 'mIoU_trimap1', 'mIoU_trimap4'} <= set(metrics)
    predictions = sorted((tmp_path / 'preds').glob('*.png'))
    assert len(predictions) == 3 and Image.open(predictions[0]).mode == 'P'
    matrix = np.load(tmp_path / 'cm' / 'confusion_matrix.npy')
    assert matrix.shape == (6, 6) and matrix.sum() == 3 * 32 * 32  # every pixel of the 3 val images is labelled
    assert (tmp_path / 'cm' / 'confusion_matrix_normalized.png').is_file()


def _confusion_matrix_of_three_images_on(rank, out_dir, collect_dir):
    """One rank of two evaluating 3 images: DefaultSampler pads to 4, rank 0 gets images 0 and 2, rank 1 gets
    image 1 and image 0 again."""
    from mmengine.dataset import DefaultSampler
    metric = ConfusionMatrixMetric(output_dir=out_dir, collect_dir=collect_dir)
    metric.dataset_meta = dict(classes=('road', 'car', 'sky'))
    for index in DefaultSampler(list(range(3)), shuffle=False):
        metric.process(None, [sample(*three_images()[index])])
    metric.evaluate(3)


def three_images():
    g = np.random.default_rng(0)
    return [(g.integers(0, 3, (4, 5)), g.integers(0, 3, (4, 5))) for _ in range(3)]


def test_confusion_matrix_on_two_ranks_counts_each_image_once(tmp_path):
    """mmengine drops the sampler's padding by cutting the gathered per-image results to the dataset's size; with
    one running matrix per rank nothing was cut, and the repeated image was counted twice."""
    from tests.rank_support import run_ranks
    run_ranks(_confusion_matrix_of_three_images_on, str(tmp_path / 'two'), str(tmp_path / 'collect'))
    single = ConfusionMatrixMetric(output_dir=str(tmp_path / 'one'))
    single.dataset_meta = dict(classes=('road', 'car', 'sky'))
    for pred, label in three_images():
        single.process(None, [sample(pred, label)])
    single.evaluate(3)
    two = np.load(tmp_path / 'two' / 'confusion_matrix.npy')
    assert two.sum() == 3 * 20
    assert two.tolist() == np.load(tmp_path / 'one' / 'confusion_matrix.npy').tolist()
