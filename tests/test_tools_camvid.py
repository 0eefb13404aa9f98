"""The after-training tools on real CamVid files: a short training run (validation overlays with a legend, the
curves), tools/test.py with a confusion matrix, the per-class IoU chart and browse_dataset, all checked against
answers counted from the annotation PNGs themselves.

Needs CamVid in data/camvid, else ../shared/data/camvid (the Shapes-data versions of these tests run everywhere);
the MobileNetV2 is randomly initialised, so no weights are needed. About 30 s on 2 CPU cores.
"""
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.conftest import CAMVID
from tests.tools_support import REPO

sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(REPO / 'tools' / 'misc'))
import browse_dataset  # noqa: E402
import plot_class_iou  # noqa: E402
import plot_curves  # noqa: E402
import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CAMVID / 'val.txt').exists(), reason='needs CamVid (data/camvid or ../shared)'),
]

CONFIG = str(REPO / 'configs' / 'deeplabv3plus' / 'mobilenetv2_256x256_camvid.py')
VOID = 11
NUM_VAL = 2


def data_options(num_val: int = NUM_VAL) -> list:
    loader = 'num_workers=0', 'persistent_workers=False'
    return [f'{split}_dataloader.{key}' for split in ('train', 'val', 'test') for key in loader] + [
        f'{split}_dataloader.dataset.data_root={CAMVID}' for split in ('train', 'val', 'test')] + [
        'train_dataloader.batch_size=2', 'train_dataloader.dataset.indices=2',
        f'val_dataloader.dataset.indices={num_val}', f'test_dataloader.dataset.indices={num_val}',
        'val_dataloader.batch_size=2', 'test_dataloader.batch_size=2']


def val_frames(n: int = NUM_VAL):
    names = (CAMVID / 'val.txt').read_text().split()[:n]
    return [(CAMVID / 'val' / f'{name}.png', CAMVID / 'valannot' / f'{name}.png') for name in names]


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """2 training iterations (validated after each), then tools/test.py with a confusion matrix."""
    tmp = tmp_path_factory.mktemp('camvid_tools')
    options = data_options() + ['model.backbone.init_cfg=None', 'train_cfg.max_iters=2', 'train_cfg.val_interval=1',
                                'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2',
                                'default_hooks.checkpoint.save_best=None', 'default_hooks.logger.interval=1']
    work_dir = tmp / 'train'
    train_tool.main([CONFIG, '--work-dir', str(work_dir), '--cfg-options', *options])
    metrics = test_tool.main([CONFIG, str(work_dir / 'iter_2.pth'), '--work-dir', str(tmp / 'test'),
                              '--confusion-matrix', str(tmp / 'cm'), '--cfg-options', *data_options()])
    return dict(tmp=tmp, work_dir=work_dir, metrics=metrics)


def test_validation_overlays_have_titles_and_a_legend(run):
    for image_path, _ in val_frames():
        drawn = cv2.imread(str(run['work_dir'] / 'overlays' / image_path.name))
        assert drawn is not None, f'no validation overlay for {image_path.name}'
        assert drawn.shape[0] > 360 and drawn.shape[1] > 3 * 480  # title strip above, legend to the right
        frame = cv2.imread(str(image_path))
        assert any(np.array_equal(drawn[top:top + 360, :480], frame)  # first panel: the frame, under its title
                   for top in range(1, drawn.shape[0] - 359))


def test_confusion_matrix_counts_every_labelled_pixel(run):
    matrix = np.load(run['tmp'] / 'cm' / 'confusion_matrix.npy')
    truth = np.concatenate([np.array(Image.open(ann)).ravel() for _, ann in val_frames()])
    per_class = np.bincount(truth[truth != VOID], minlength=VOID)
    assert matrix.shape == (VOID, VOID)
    assert np.array_equal(matrix.sum(axis=1), per_class)  # rows are ground truth, void left out
    for name in ('confusion_matrix.png', 'confusion_matrix_normalized.png'):
        assert cv2.imread(str(run['tmp'] / 'cm' / name)) is not None


def test_class_iou_chart_and_curves_from_the_logs(run, tmp_path):
    pytest.importorskip('matplotlib')
    table = plot_class_iou.read_class_table(plot_class_iou.find_log(run['tmp'] / 'test'))
    from segkit.datasets import CamVidDataset
    assert [name for name, _ in table['IoU']] == list(CamVidDataset.METAINFO['classes'])
    present = [v for _, v in table['IoU'] if not np.isnan(v)]
    assert np.mean(present) == pytest.approx(run['metrics']['mIoU'], abs=0.01)
    assert cv2.imread(str(plot_class_iou.main([str(run['tmp'] / 'test'), '--out', str(tmp_path / 'iou.png')])))\
        is not None
    train, val = plot_curves.read_scalars(plot_curves.find_scalar_files(run['work_dir']))
    assert [step for step, _ in train['loss']] == [1, 2] and [step for step, _ in val['mIoU']] == [1, 2]
    assert cv2.imread(str(plot_curves.main([str(run['work_dir']), '--out', str(tmp_path / 'curves.png')])))\
        is not None


def test_browse_dataset_blends_the_annotation_colours(tmp_path):
    """On the val split (no augmentation) each drawn pixel is exactly half frame, half its class colour."""
    written = browse_dataset.main([CONFIG, '--out', str(tmp_path), '--num', '1', '--split', 'val',
                                   '--cfg-options', *data_options(num_val=1)])
    image_path, ann_path = val_frames(1)[0]
    panel = cv2.imread(written[0]).astype(np.float32)
    frame = cv2.imread(str(image_path)).astype(np.float32)
    labels = np.array(Image.open(ann_path))
    from segkit.datasets import CamVidDataset
    palette_bgr = np.array(CamVidDataset.METAINFO['palette'] + [[0, 0, 0]], np.float32)[:, ::-1]
    expected = np.where((labels == VOID)[..., None], frame, np.rint(0.5 * frame + 0.5 * palette_bgr[labels]))
    assert panel.shape == (360, 960, 3)
    assert np.array_equal(panel[:, :480], frame) and np.array_equal(panel[:, 480:], expected)
