"""Transforms: loading errors, label remapping, crop/flip/resize consistency, photometric, packing."""
import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import RandomFlip, RandomResize
from mmengine.registry import DefaultScope
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
from PIL import Image

from segkit.datasets.transforms import (DataFileError, LoadAnnotations, LoadImageFromFile, PackSegInputs,
                                        PhotoMetricDistortion, RandomCrop)
from segkit.registry import TRANSFORMS
from segkit.structures import SegDataSample


def coded_pair(h: int = 48, w: int = 64):
    """An image whose pixels encode their (row, col) and a mask that is a function of the same position."""
    rows, cols = np.mgrid[0:h, 0:w]
    img = np.stack([rows, cols, (rows + cols) % 256], axis=-1).astype(np.uint8)
    mask = ((rows // 8 + cols // 8) % 3).astype(np.uint8)
    return img, mask


def results_for(img, mask):
    return dict(img=img, gt_seg_map=mask, img_shape=img.shape[:2], ori_shape=img.shape[:2], seg_fields=['gt_seg_map'])


def assert_pair_consistent(img, mask):
    expected = ((img[..., 0].astype(int) // 8 + img[..., 1].astype(int) // 8) % 3)
    assert np.array_equal(mask, expected)


# ---------------------------------------------------------------------------------------------------- loading
def test_segkit_load_image_shadows_mmcv_in_segkit_scope():
    assert TRANSFORMS.get('LoadImageFromFile') is LoadImageFromFile
    with DefaultScope.overwrite_default_scope('segkit'):
        assert type(ROOT_TRANSFORMS.build(dict(type='LoadImageFromFile'))) is LoadImageFromFile
    assert TRANSFORMS.get('RandomResize') is RandomResize  # mmcv's, through the parent


def test_unreadable_and_missing_images_are_named(tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(DataFileError, match='broken.jpg'):
        LoadImageFromFile()(dict(img_path=str(bad)))
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'gone.jpg')))
    assert LoadImageFromFile(ignore_empty=True)(dict(img_path=str(tmp_path / 'gone.jpg'))) is None


def _mask_file(tmp_path, mask, name='m.png'):
    path = tmp_path / name
    cv2.imwrite(str(path), mask)
    return str(path)


def test_load_annotations_size_mismatch_names_both_files(tmp_path):
    path = _mask_file(tmp_path, np.zeros((10, 12), np.uint8))
    results = dict(img=np.zeros((10, 14, 3), np.uint8), img_path='pic.jpg', seg_map_path=path)
    with pytest.raises(ValueError) as err:
        LoadAnnotations()(results)
    assert 'pic.jpg' in str(err.value) and path in str(err.value) and '10x12' in str(err.value)
    # A test pipeline loads the mask after Resize: the check is against the image as read (ori_shape).
    resized = dict(img=np.zeros((20, 24, 3), np.uint8), ori_shape=(10, 12), img_path='pic.jpg', seg_map_path=path)
    assert LoadAnnotations()(resized)['gt_seg_map'].shape == (10, 12)


def test_load_annotations_bad_labels_name_file_values_and_fix(tmp_path):
    mask = np.array([[0, 1, 7, 255, 9]], np.uint8)
    path = _mask_file(tmp_path, mask)
    results = dict(seg_map_path=path, num_classes=3, ignore_index=255)
    with pytest.raises(ValueError) as err:
        LoadAnnotations()(dict(results))
    message = str(err.value)
    assert path in message and '[7, 9]' in message and 'label_map' in message and 'reduce_zero_label' in message
    fixed = LoadAnnotations()(dict(results, label_map={7: 2, 9: 255}))
    assert fixed['gt_seg_map'][0].tolist() == [0, 1, 2, 255, 255]
    assert fixed['seg_fields'] == ['gt_seg_map']


def test_reduce_zero_label_then_label_map(tmp_path):
    path = _mask_file(tmp_path, np.array([[0, 1, 2, 3, 255]], np.uint8))
    out = LoadAnnotations()(dict(seg_map_path=path, reduce_zero_label=True, label_map={2: 0}, num_classes=3))
    assert out['gt_seg_map'][0].tolist() == [255, 0, 1, 0, 255]
    assert out['gt_seg_map'].dtype == np.uint8


def test_palette_png_reads_indices_and_colour_mask_is_rejected(tmp_path):
    indices = np.array([[0, 3], [15, 255]], np.uint8)
    palette_png = Image.fromarray(indices, mode='P')
    palette_png.putpalette(list(np.random.default_rng(0).integers(0, 256, 768)))
    palette_png.save(tmp_path / 'p.png')
    out = LoadAnnotations()(dict(seg_map_path=str(tmp_path / 'p.png')))
    assert np.array_equal(out['gt_seg_map'], indices)
    colour = _mask_file(tmp_path, np.zeros((4, 4, 3), np.uint8), 'rgb.png')
    with pytest.raises(DataFileError, match='rgb.png'):
        LoadAnnotations()(dict(seg_map_path=colour))
    with pytest.raises(FileNotFoundError, match='nomask.png'):
        LoadAnnotations()(dict(seg_map_path=str(tmp_path / 'nomask.png')))


# ------------------------------------------------------------------------------------------------- geometric
def test_random_crop_crops_image_and_mask_identically():
    np.random.seed(1)
    img, mask = coded_pair()
    for _ in range(5):
        out = RandomCrop(crop_size=(16, 24))(results_for(img, mask))
        assert out['img'].shape[:2] == out['gt_seg_map'].shape == out['img_shape'] == (16, 24)
        assert_pair_consistent(out['img'], out['gt_seg_map'])
    small = RandomCrop(crop_size=100)(results_for(img, mask))  # no padding: the whole image comes back
    assert small['img'].shape[:2] == (48, 64)


def _dominant_share(label):
    counts = np.bincount(label.ravel(), minlength=256)
    counts[255] = 0
    return counts.max() / counts.sum()


def test_random_crop_cat_max_ratio_avoids_single_class_crops():
    label = np.zeros((64, 64), np.uint8)
    label[:, :18] = 1  # a random 32x32 crop has both classes with share < 0.75 in ~30 % of offsets
    label[60:, :] = 255
    img = np.zeros((64, 64, 3), np.uint8)

    def pass_rate(ratio):
        np.random.seed(0)
        crop = RandomCrop(crop_size=32, cat_max_ratio=ratio)
        shares = [_dominant_share(crop(results_for(img, label))['gt_seg_map']) for _ in range(100)]
        return np.mean(np.array(shares) < 0.75)

    assert pass_rate(1.0) < 0.45
    assert pass_rate(0.75) > 0.9


def test_random_flip_flips_image_and_mask():
    img, mask = coded_pair()
    out = RandomFlip(prob=1.0, direction='horizontal')(results_for(img, mask))
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    assert np.array_equal(out['img'], img[:, ::-1]) and np.array_equal(out['gt_seg_map'], mask[:, ::-1])


def test_random_resize_scale_in_range_and_mask_nearest():
    np.random.seed(0)
    img, mask = coded_pair(40, 60)
    mask = mask * 100  # values 0, 100, 200: any interpolation would create others
    resize = RandomResize(scale=(60, 40), ratio_range=(0.5, 2.0), keep_ratio=True)
    for _ in range(8):
        out = resize(results_for(img, mask))
        h, w = out['img'].shape[:2]
        assert out['gt_seg_map'].shape == (h, w) == tuple(out['img_shape'])
        assert 0.5 * 40 - 1 <= h <= 2.0 * 40 + 1 and 0.5 * 60 - 1 <= w <= 2.0 * 60 + 1
        assert set(np.unique(out['gt_seg_map'])) <= {0, 100, 200}
        assert out['scale_factor'][0] == pytest.approx(w / 60)


# ------------------------------------------------------------------------------------------------ photometric
def test_photometric_distortion_keeps_dtype_shape_and_mask():
    np.random.seed(0)
    img = np.random.default_rng(0).integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    mask = np.random.default_rng(1).integers(0, 5, size=(24, 32), dtype=np.uint8)
    changed = 0
    for _ in range(10):
        out = PhotoMetricDistortion()(results_for(img.copy(), mask.copy()))
        assert out['img'].dtype == np.uint8 and out['img'].shape == img.shape
        assert np.array_equal(out['gt_seg_map'], mask)
        changed += not np.array_equal(out['img'], img)
    assert changed >= 7  # each of the four distortions fires with p=0.5


def test_photometric_identity_settings_change_nothing_and_brightness_shifts():
    img = np.random.default_rng(0).integers(40, 200, size=(8, 8, 3), dtype=np.uint8)
    identity = PhotoMetricDistortion(brightness_delta=0, contrast_range=(1, 1), saturation_range=(1, 1),
                                     hue_delta=0)
    for seed in range(4):
        np.random.seed(seed)
        assert np.array_equal(identity(results_for(img.copy(), None))['img'], img)
    bright = PhotoMetricDistortion(brightness_delta=32, contrast_range=(1, 1), saturation_range=(1, 1),
                                   hue_delta=0)
    shifts = set()
    for seed in range(6):
        np.random.seed(seed)
        diff = bright(results_for(img.copy(), None))['img'].astype(int) - img
        assert len(np.unique(diff)) == 1 and abs(diff.flat[0]) <= 32  # one uniform shift, no clipping here
        shifts.add(int(diff.flat[0]))
    assert len(shifts) > 1


# ---------------------------------------------------------------------------------------------------- packing
def test_pack_seg_inputs_types_shapes_and_meta():
    img, mask = coded_pair(20, 30)
    results = results_for(img[:, ::-1], mask[:, ::-1])  # non-contiguous views, as after a flip
    results.update(img_path='a.png', seg_map_path='a_mask.png', reduce_zero_label=False, flip=True,
                   flip_direction='horizontal', custom='dropped')
    out = PackSegInputs()(results)
    inputs, sample = out['inputs'], out['data_samples']
    assert isinstance(sample, SegDataSample)
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 20, 30)
    assert torch.equal(inputs[1], torch.from_numpy(np.ascontiguousarray(img[:, ::-1, 1])))
    gt = sample.gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, 20, 30)
    assert torch.equal(gt[0], torch.from_numpy(mask[:, ::-1].astype(np.int64)))
    meta = sample.metainfo
    assert meta['img_path'] == 'a.png' and meta['flip'] is True and meta['ori_shape'] == (20, 30)
    assert meta['pad_shape'] == (20, 30) and meta['scale_factor'] == (1.0, 1.0) and 'custom' not in meta
    no_gt = PackSegInputs()(dict(img=img, img_path='b.png'))['data_samples']
    assert 'gt_sem_seg' not in no_gt and no_gt.flip is False
