"""Class weights (median frequency, inverse square root, ENet) and hard-image repetition on constructed masks."""
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from segkit.datasets import HardImageRepeatDataset
from segkit.datasets.label_stats import class_weights, label_histograms
from segkit.registry import DATASETS
from tests.conftest import CAMVID

REPO = Path(__file__).resolve().parents[1]
CLASSES = ('a', 'b', 'c', 'd', 'e')
# per-image pixel counts of 4x4 masks (class e never occurs; image 4 has two ignored pixels)
COUNTS = [[16, 0, 0, 0, 0], [12, 4, 0, 0, 0], [8, 0, 8, 0, 0], [15, 0, 0, 1, 0], [12, 2, 0, 0, 0]]


def write_dataset(root: Path) -> None:
    for i, row in enumerate(COUNTS):
        values = [c for c, n in enumerate(row) for _ in range(n)]
        mask = np.array(values + [255] * (16 - len(values)), np.uint8).reshape(4, 4)
        for folder, data in (('img', np.zeros((4, 4, 3), np.uint8)), ('ann', mask)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / folder / f'{i}.png'), data)


def dataset_cfg(root: Path) -> dict:
    return dict(type='SegDataset', data_root=str(root), data_prefix=dict(img_path='img', seg_map_path='ann'),
                img_suffix='.png', metainfo=dict(classes=CLASSES))


def test_label_histograms_count_pixels_per_image(tmp_path):
    write_dataset(tmp_path)
    counts, image_pixels = label_histograms(DATASETS.build(dataset_cfg(tmp_path)))
    assert counts.tolist() == COUNTS and image_pixels.tolist() == [16] * 5


def test_class_weights_known_values():
    counts, image_pixels = np.array(COUNTS), np.full(5, 16)
    # median frequency: pixels of c / pixels of the images containing c -> 63/80, 6/32, 8/16, 1/16; median 11/32
    freq = [63 / 80, 6 / 32, 8 / 16, 1 / 16]
    expected = [11 / 32 / f for f in freq] + [0.0]
    assert class_weights(counts, image_pixels, 'median') == pytest.approx(expected)
    # shares of the 78 labelled pixels: 63, 6, 8, 1; 1/sqrt(share), divided by the median of the present classes
    inv_sqrt = [math.sqrt(78 / n) for n in (63, 6, 8, 1)]
    median = (math.sqrt(78 / 8) + math.sqrt(78 / 6)) / 2
    assert class_weights(counts, image_pixels, 'inv_sqrt') == pytest.approx([w / median for w in inv_sqrt] + [0])
    enet = [1 / math.log(1.02 + n / 78) for n in (63, 6, 8, 1, 0)]
    assert class_weights(counts, image_pixels, 'enet') == pytest.approx(enet)
    assert class_weights(counts, image_pixels, 'enet', enet_c=1.1)[4] == pytest.approx(1 / math.log(1.1))
    with pytest.raises(ValueError, match='unknown class weighting'):
        class_weights(counts, image_pixels, 'inverse')


def test_class_weights_tool_prints_the_chosen_list(tmp_path, capsys):
    write_dataset(tmp_path)
    config = tmp_path / 'cfg.py'
    config.write_text(f'train_dataloader = dict(dataset={dataset_cfg(tmp_path)!r})\n')
    sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
    import class_weights as tool
    tool.main([str(config), '--method', 'enet'])
    out = capsys.readouterr().out
    expected = ', '.join(f'{1 / math.log(1.02 + n / 78):.3f}' for n in (63, 6, 8, 1, 0))
    assert out.strip().endswith(f'class_weight=[{expected}]')
    assert 'inv_sqrt' in out and 'median' in out


@pytest.mark.skipif(not (CAMVID / 'train.txt').exists(), reason='needs CamVid in data/camvid or ../shared/data/camvid')
def test_camvid_config_weights_are_those_of_its_training_labels():
    """The CamVid tables in configs/_base_/datasets/camvid.py are the tool's output on the real train split."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / 'camvid.py'))
    cfg.train_dataloader.dataset.update(data_root=str(CAMVID), pipeline=[])
    counts, image_pixels = label_histograms(DATASETS.build(cfg.train_dataloader.dataset))
    for key, method in (('camvid_class_weight', 'median'), ('camvid_class_weight_inv_sqrt', 'inv_sqrt')):
        computed = np.round(class_weights(counts, image_pixels, method), 3)
        assert cfg[key] == pytest.approx(computed, abs=1e-3), key


def repeated(tmp_path, **kwargs):
    write_dataset(tmp_path)
    dataset = HardImageRepeatDataset(dataset=dataset_cfg(tmp_path), **kwargs)
    return [dataset._get_ori_dataset_idx(i) for i in range(len(dataset))], dataset


def test_repeat_images_with_named_classes(tmp_path):
    order, dataset = repeated(tmp_path, classes=['d'], repeat_factor=3)
    assert order == [0, 1, 2, 3, 3, 3, 4]
    assert dataset.metainfo['classes'] == CLASSES
    assert dataset.get_data_info(5)['img_path'].endswith('3.png') and dataset[6]['img_path'].endswith('4.png')
    order, _ = repeated(tmp_path, classes=[1, 'c'], repeat_factor=2)
    assert order == [0, 1, 1, 2, 2, 3, 4, 4]


def test_repeat_images_with_rare_classes(tmp_path):
    # image frequency: a 5/5, b 2/5, c 1/5, d 1/5 -> below 0.3: c, d (e never occurs and is not hard)
    order, _ = repeated(tmp_path, max_class_frequency=0.3, repeat_factor=2)
    assert order == [0, 1, 2, 2, 3, 3, 4]
    # pixel share: a 63/78, b 6/78, c 8/78, d 1/78 -> below 0.09: b, d
    order, _ = repeated(tmp_path, max_class_frequency=0.09, frequency='pixel', repeat_factor=2)
    assert order == [0, 1, 1, 2, 3, 3, 4, 4]


def test_repeat_errors(tmp_path):
    write_dataset(tmp_path)
    with pytest.raises(KeyError, match="'f' is not among the dataset classes"):
        HardImageRepeatDataset(dataset=dataset_cfg(tmp_path), classes=['f'])
    with pytest.raises(ValueError, match='needs classes'):
        HardImageRepeatDataset(dataset=dataset_cfg(tmp_path))
