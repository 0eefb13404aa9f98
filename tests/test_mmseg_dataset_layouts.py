"""The datasets taken over from MMSegmentation read a constructed sample in their converted layout, through
segkit's configs of them (configs/_base_/datasets, MMSegmentation's names and settings)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from segkit.datasets.mapillary import MAPILLARY_V1_PALETTE
from segkit.registry import DATASETS

REPO = Path(__file__).resolve().parents[1]
# config -> (image, label map) under data_root, the first label row as written, and as the dataset gives it
CASES = {
    'loveda.py': (('img_dir/train/0.png', 'ann_dir/train/0.png'), [0, 1, 7], [255, 0, 6]),
    'potsdam.py': (('img_dir/train/2_10_0_0_512_512.png', 'ann_dir/train/2_10_0_0_512_512.png'),
                   [0, 1, 6], [255, 0, 5]),
    'vaihingen.py': (('img_dir/train/area1_0_0_512_512.png', 'ann_dir/train/area1_0_0_512_512.png'),
                     [0, 2, 6], [255, 1, 5]),
    'isaid.py': (('img_dir/train/P0000_0_896_0_896.png', 'ann_dir/train/P0000_0_896_0_896_instance_color_RGB.png'),
                 [0, 15, 255], [0, 15, 255]),
    'coco-stuff164k.py': (('images/train2017/000000000009.jpg',
                           'annotations/train2017/000000000009_labelTrainIds.png'), [0, 170, 255], [0, 170, 255]),
    'coco-stuff10k.py': (('images/train2014/COCO_train2014_000000000077.jpg',
                          'annotations/train2014/COCO_train2014_000000000077_labelTrainIds.png'),
                         [0, 1, 171], [255, 0, 170]),
    'pascal_context.py': (('JPEGImages/2008_000002.jpg', 'SegmentationClassContext/2008_000002.png'),
                          [0, 1, 59], [0, 1, 59]),
    'mapillary_v1.py': (('training/images/a.jpg', 'training/v1.2/labels/a.png'), [0, 64, 65], [0, 64, 65]),
    'mapillary_v1_65.py': (('training/images/a.jpg', 'training/v1.2/labels/a.png'), [0, 64, 65], [0, 64, 255]),
}


def write_label_map(path: Path, labels: np.ndarray, mapillary: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mapillary:  # v1.2's labels are palette PNGs: the pixel values are indices into the colour table
        image = Image.fromarray(labels, mode='P')
        image.putpalette([c for colour in MAPILLARY_V1_PALETTE for c in colour])
        image.save(path)
    else:
        assert cv2.imwrite(str(path), labels)


@pytest.mark.parametrize('config', sorted(CASES))
def test_converted_layout_reads_through_the_config(tmp_path, config):
    (image_path, label_path), written, expected = CASES[config]
    labels = np.array([written, written[::-1]], np.uint8)
    (tmp_path / image_path).parent.mkdir(parents=True)
    assert cv2.imwrite(str(tmp_path / image_path), np.full(labels.shape + (3,), 90, np.uint8))
    write_label_map(tmp_path / label_path, labels, mapillary=config.startswith('mapillary'))
    if config == 'pascal_context.py':
        (tmp_path / 'ImageSets' / 'SegmentationContext').mkdir(parents=True)
        (tmp_path / 'ImageSets' / 'SegmentationContext' / 'train.txt').write_text('2008_000002\n')

    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / config)).train_dataloader.dataset
    loading = cfg.pipeline[:2]
    assert [step.type for step in loading] == ['LoadImageFromFile', 'LoadAnnotations']
    dataset = DATASETS.build(dict(cfg, data_root=str(tmp_path), pipeline=loading))
    assert len(dataset) == 1
    sample = dataset[0]
    assert sample['img_path'] == str(tmp_path / image_path)
    assert sample['gt_seg_map'].tolist() == [expected, expected[::-1]]
