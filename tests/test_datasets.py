"""Datasets: listing, pairing, errors that name files, label mapping, the generated shapes data, CamVid."""
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from segkit.datasets import (CamVidDataset, CityscapesDataset, FolderSegDataset, PascalVOCDataset, SegDataset,
                             ShapesDataset, generate_shapes)
from segkit.datasets.shapes_generator import SHAPE_CLASSES
from segkit.registry import DATASETS
from tests.conftest import CAMVID  # data/camvid, else ../shared/data/camvid

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def write_pair(img_dir: Path, ann_dir: Path, name: str, mask: np.ndarray, suffix: str = '.png') -> None:
    for folder in (img_dir, ann_dir):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(0).integers(0, 256, size=mask.shape + (3,), dtype=np.uint8)
    cv2.imwrite(str(img_dir / f'{name}{suffix}'), img)
    cv2.imwrite(str(ann_dir / f'{name}.png'), mask.astype(np.uint8))


def two_class_mask(size: int = 32) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[: size // 2] = 1
    return mask


def make_folder(root: Path, names=('b', 'a', 'sub/c')) -> None:
    for name in names:
        write_pair(root / 'img', root / 'ann', name, two_class_mask())


def seg_dataset(root: Path, **kwargs) -> SegDataset:
    return SegDataset(data_root=str(root), data_prefix=dict(img_path='img', seg_map_path='ann'), img_suffix='.png',
                      metainfo=dict(classes=('bg', 'fg')), **kwargs)


def test_lists_images_recursively_sorted_and_pairs_masks(tmp_path):
    make_folder(tmp_path)
    ds = seg_dataset(tmp_path)
    names = [Path(ds.get_data_info(i)['img_path']).relative_to(tmp_path / 'img').as_posix() for i in range(len(ds))]
    assert names == ['a.png', 'b.png', 'sub/c.png']
    info = ds.get_data_info(2)
    assert info['seg_map_path'] == str(tmp_path / 'ann' / 'sub' / 'c.png')
    assert info['num_classes'] == 2 and info['ignore_index'] == 255 and info['seg_fields'] == []
    assert ds.metainfo['classes'] == ('bg', 'fg') and len(ds.metainfo['palette']) == 2


def test_ann_file_selects_and_orders_samples(tmp_path):
    make_folder(tmp_path)
    (tmp_path / 'split.txt').write_text('sub/c\n\nb\n')
    ds = seg_dataset(tmp_path, ann_file='split.txt')
    assert [Path(ds.get_data_info(i)['img_path']).name for i in range(len(ds))] == ['c.png', 'b.png']


def test_ann_file_name_without_image_is_named(tmp_path):
    make_folder(tmp_path)
    (tmp_path / 'split.txt').write_text('a\nghost\n')
    with pytest.raises(FileNotFoundError, match='ghost.png'):
        seg_dataset(tmp_path, ann_file='split.txt')


def test_missing_mask_names_image_and_expected_mask(tmp_path):
    make_folder(tmp_path)
    (tmp_path / 'ann' / 'b.png').unlink()
    with pytest.raises(FileNotFoundError) as err:
        seg_dataset(tmp_path)
    assert str(tmp_path / 'img' / 'b.png') in str(err.value)
    assert str(tmp_path / 'ann' / 'b.png') in str(err.value)


def test_empty_or_absent_image_folder_is_named_with_suffix(tmp_path):
    (tmp_path / 'img').mkdir()
    with pytest.raises(FileNotFoundError, match=r"'\.png'") as err:
        seg_dataset(tmp_path)
    assert str(tmp_path / 'img') in str(err.value)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        seg_dataset(tmp_path / 'nowhere')


@pytest.mark.parametrize('dataset_cls', [SegDataset, PascalVOCDataset, CityscapesDataset, CamVidDataset,
                                         FolderSegDataset, ShapesDataset])
def test_lazy_init_touches_no_file(tmp_path, dataset_cls):
    root = tmp_path / 'absent'
    cfg = dict(type=dataset_cls.__name__, data_root=str(root), lazy_init=True, pipeline=LOAD)
    if dataset_cls is SegDataset:
        cfg['metainfo'] = dict(classes=('a', 'b'))
    elif dataset_cls is FolderSegDataset:
        cfg['classes'] = ('a', 'b')
    ds = DATASETS.build(cfg)
    assert isinstance(ds, dataset_cls)
    assert not root.exists() and list(tmp_path.iterdir()) == []
    if dataset_cls is not ShapesDataset:
        with pytest.raises(FileNotFoundError, match='absent'):
            ds.full_init()


def test_class_subset_maps_other_classes_to_ignore(tmp_path):
    mask = np.array([[0, 8, 12, 255]], np.uint8).repeat(4, axis=0)
    write_pair(tmp_path / 'JPEGImages', tmp_path / 'SegmentationClass', 'x', mask, suffix='.jpg')
    ds = PascalVOCDataset(data_root=str(tmp_path), metainfo=dict(classes=('background', 'cat')), pipeline=LOAD)
    assert ds.metainfo['palette'] == [[0, 0, 0], [64, 0, 0]]  # VOC colours of classes 0 and 8
    assert ds[0]['gt_seg_map'][0].tolist() == [0, 1, 255, 255]
    with pytest.raises(ValueError, match='unicorn'):
        PascalVOCDataset(data_root=str(tmp_path), metainfo=dict(classes=('unicorn',)), lazy_init=True)


def test_camvid_void_label_becomes_ignore(tmp_path):
    mask = np.array([[0, 5, 10, 11]], np.uint8).repeat(4, axis=0)
    write_pair(tmp_path / 'train', tmp_path / 'trainannot', 'f1', mask)
    (tmp_path / 'train.txt').write_text('f1\n')
    ds = CamVidDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert len(ds.metainfo['classes']) == 11
    assert ds[0]['gt_seg_map'][0].tolist() == [0, 5, 10, 255]


def test_folder_dataset_binary_masks(tmp_path):
    mask = (two_class_mask() * 255).astype(np.uint8)
    write_pair(tmp_path / 'images', tmp_path / 'masks', 'm', mask)
    auto = FolderSegDataset(data_root=str(tmp_path), classes=('bg', 'fg'), img_suffix='.png', pipeline=LOAD)
    assert auto.binary is True
    assert set(np.unique(auto[0]['gt_seg_map'])) == {0, 1}
    off = FolderSegDataset(data_root=str(tmp_path), classes=('bg', 'fg'), img_suffix='.png', binary=False,
                           pipeline=LOAD)
    assert set(np.unique(off[0]['gt_seg_map'])) == {0, 255}  # 255 kept as the ignore index
    with pytest.raises(ValueError, match='2 classes'):
        FolderSegDataset(classes=('a', 'b', 'c'), binary=True, lazy_init=True)


def test_folder_dataset_index_masks_are_not_binarised(tmp_path):
    write_pair(tmp_path / 'images', tmp_path / 'masks', 'm', two_class_mask())
    ds = FolderSegDataset(data_root=str(tmp_path), classes=('bg', 'fg'), img_suffix='.png', pipeline=LOAD)
    assert ds.binary is False and np.array_equal(ds[0]['gt_seg_map'], two_class_mask())


def _tree_bytes(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob('*.png'))}


def test_generate_shapes_is_deterministic(tmp_path):
    a = _tree_bytes(generate_shapes(tmp_path / 'a', num_train=6, num_val=2, size=64, seed=3))
    b = _tree_bytes(generate_shapes(tmp_path / 'b', num_train=6, num_val=2, size=64, seed=3))
    c = _tree_bytes(generate_shapes(tmp_path / 'c', num_train=6, num_val=2, size=64, seed=4))
    assert len(a) == 16 and a == b
    assert a['img_dir/train/00000.png'] != c['img_dir/train/00000.png']
    assert a['img_dir/train/00000.png'] != a['img_dir/val/00000.png']  # splits use different streams


def test_shapes_dataset_classes_present_and_masks_match_images(tmp_path):
    ds = ShapesDataset(data_root=str(tmp_path / 'shapes'), num_train=10, num_val=2, img_size=64, pipeline=LOAD)
    assert len(ds) == 10 and ds.metainfo['classes'] == SHAPE_CLASSES
    counts = np.zeros(len(SHAPE_CLASSES), int)
    edge_ratio = []
    for i in range(len(ds)):
        sample = ds[i]
        img, mask = sample['img'], sample['gt_seg_map']
        assert img.shape[:2] == mask.shape == (64, 64)
        counts += np.bincount(mask.ravel(), minlength=len(SHAPE_CLASSES))
        # Mask borders must sit on image edges: a shifted or wrong mask fails this.
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        grad = np.abs(np.diff(grey, axis=1))
        border = mask[:, 1:] != mask[:, :-1]
        if border.sum() > 20:
            edge_ratio.append(grad[border].mean() / grad[~border].mean())
    assert (counts > 0).all(), counts
    assert np.median(edge_ratio) > 2.0, edge_ratio
    val = ShapesDataset(data_root=str(tmp_path / 'shapes'), num_train=10, num_val=2, img_size=64,
                        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))
    assert len(val) == 2


def test_shapes_generation_is_safe_under_concurrency(tmp_path):
    root = tmp_path / 'shapes'
    errors = []

    def run():
        try:
            generate_shapes(root, num_train=5, num_val=2, size=48, seed=0)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list((root / 'img_dir' / 'train').iterdir())) == 5
    assert [p.name for p in tmp_path.iterdir() if 'tmp' in p.name] == []


def test_shapes_refuses_mismatched_or_foreign_folder(tmp_path):
    generate_shapes(tmp_path / 's', num_train=2, num_val=1, size=32, seed=0)
    with pytest.raises(ValueError, match='delete the folder'):
        generate_shapes(tmp_path / 's', num_train=3, num_val=1, size=32, seed=0)
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'x.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='mine'):
        generate_shapes(tmp_path / 'mine', num_train=2, num_val=1, size=32)


@pytest.mark.skipif(not CAMVID.is_dir(), reason='CamVid data not present')
def test_camvid_real_data_full_train_pipeline():
    def build(split, pipeline=()):
        return CamVidDataset(data_root=str(CAMVID), ann_file=f'{split}.txt', pipeline=list(pipeline),
                             data_prefix=dict(img_path=split, seg_map_path=f'{split}annot'))

    assert len(build('val')) == 101
    train = build('train', [
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(256, 256), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5), dict(type='PhotoMetricDistortion'), dict(type='PackSegInputs')])
    assert len(train) == 367
    out = train[0]
    inputs, sample = out['inputs'], out['data_samples']
    assert inputs.dtype.is_floating_point is False and inputs.shape[0] == 3
    assert tuple(inputs.shape[1:]) == sample.img_shape == tuple(sample.gt_sem_seg.data.shape[1:])
    assert max(inputs.shape[1:]) <= 256 and sample.ori_shape == (360, 480)
    labels = set(sample.gt_sem_seg.data.unique().tolist())
    assert labels <= set(range(11)) | {255}
