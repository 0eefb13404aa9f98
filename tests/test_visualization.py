"""Palettes, overlays and SegVisualizationHook writing one file per sample."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from segkit.registry import HOOKS
from segkit.structures.seg_data_sample import SegDataSample
from segkit.visualization import draw_overlay, draw_side_by_side, get_palette

PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]  # RGB


def test_generated_palette_is_deterministic_and_distinct():
    colors = get_palette(num_classes=256)
    assert colors == get_palette(num_classes=256)
    assert len(set(colors)) == 256
    assert len(get_palette(classes=['a', 'b', 'c'])) == 3


def test_dataset_palette_is_used_and_short_one_extended():
    assert get_palette(palette=PALETTE, classes=['a', 'b', 'c']) == PALETTE
    extended = get_palette(palette=PALETTE[:1], num_classes=3)
    assert extended[0] == PALETTE[0] and len(extended) == 3 and len(set(extended)) == 3
    with pytest.raises(ValueError):
        get_palette(palette=[(300, 0, 0)])


def test_overlay_blends_labels_and_leaves_ignored_pixels():
    image = np.full((4, 5, 3), 100, dtype=np.uint8)
    image[0, 0] = (10, 20, 30)
    labels = np.array([[0, 1, 2, 255, 7]] * 4)  # 7 has no colour
    out = draw_overlay(image, labels, PALETTE, alpha=0.5)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[:, 3:], image[:, 3:])  # ignored and colourless pixels keep the image
    assert tuple(out[1, 0]) == (50, 50, 178)  # red in BGR is (0, 0, 255): 0.5 * 100 + 0.5 * 255 = 177.5 -> 178
    assert tuple(out[0, 0]) == (5, 10, 142)
    full = draw_overlay(image, torch.tensor(labels)[None], PALETTE, alpha=1.0)  # 1xHxW tensors work too
    assert tuple(full[2, 1]) == (0, 255, 0) and tuple(full[2, 2]) == (255, 0, 0)
    assert not np.shares_memory(out, image)
    custom = draw_overlay(image, labels, PALETTE, ignore_index=1)  # an ignore value that has a colour
    assert np.array_equal(custom[:, 1], image[:, 1]) and not np.array_equal(custom[:, 0], image[:, 0])


def test_overlay_resizes_a_label_map_of_another_size():
    image = np.zeros((8, 6, 3), dtype=np.uint8)
    labels = np.array([[0, 2], [2, 0]])
    out = draw_overlay(image, labels, PALETTE, alpha=1.0)
    assert tuple(out[0, 0]) == (0, 0, 255) and tuple(out[7, 0]) == (255, 0, 0)


def test_side_by_side_panels():
    image = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    pred = np.zeros((6, 7), dtype=np.int64)
    gt = np.full((6, 7), 1)
    both = draw_side_by_side(image, pred, gt, palette=PALETTE, alpha=1.0)
    assert both.shape == (6, 21, 3)
    assert np.array_equal(both[:, :7], image)
    assert (both[:, 7:14] == (0, 255, 0)).all() and (both[:, 14:] == (0, 0, 255)).all()
    assert draw_side_by_side(image, pred, palette=PALETTE).shape == (6, 14, 3)


def make_outputs(tmp_path, names=('a.jpg', 'b.png')):
    samples = []
    for i, name in enumerate(names):
        path = tmp_path / 'images' / name
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), np.full((5, 6, 3), 40 * i, dtype=np.uint8))
        sample = SegDataSample(metainfo=dict(img_path=str(path), ori_shape=(5, 6)))
        sample.pred_sem_seg = PixelData(data=torch.full((1, 5, 6), i % 3))
        if i == 0:  # only the first sample has a ground truth
            sample.gt_sem_seg = PixelData(data=torch.ones(1, 5, 6, dtype=torch.long))
        samples.append(sample)
    return samples


def fake_runner(palette=PALETTE):
    return SimpleNamespace(visualizer=SimpleNamespace(dataset_meta=dict(classes=('x', 'y', 'z'), palette=palette)))


def test_hook_writes_one_file_per_sample(tmp_path):
    out_dir = tmp_path / 'show'
    hook = HOOKS.build(dict(type='SegVisualizationHook', draw=True, out_dir=str(out_dir), alpha=1.0, legend=False))
    hook.after_test_iter(fake_runner(), 0, data_batch=None, outputs=make_outputs(tmp_path))
    assert sorted(p.name for p in out_dir.iterdir()) == ['a.png', 'b.png']
    with_gt = cv2.imread(str(out_dir / 'a.png'))
    assert with_gt.shape == (5, 18, 3)  # image | GT | prediction
    assert (with_gt[:, 6:12] == (0, 255, 0)).all() and (with_gt[:, 12:] == (0, 0, 255)).all()
    assert cv2.imread(str(out_dir / 'b.png')).shape == (5, 12, 3)  # image | prediction


def test_hook_accepts_dict_outputs_and_no_dataset_meta(tmp_path):
    out_dir = tmp_path / 'show'
    hook = HOOKS.build(dict(type='SegVisualizationHook', draw=True, out_dir=str(out_dir)))
    outputs = [s.to_dict() for s in make_outputs(tmp_path)]
    hook.after_test_iter(SimpleNamespace(), 0, outputs=outputs)
    assert sorted(p.name for p in out_dir.iterdir()) == ['a.png', 'b.png']


def test_hook_respects_draw_flag_and_val_interval(tmp_path):
    out_dir = tmp_path / 'show'
    off = HOOKS.build(dict(type='SegVisualizationHook', draw=False, out_dir=str(out_dir)))
    off.after_test_iter(fake_runner(), 0, outputs=make_outputs(tmp_path))
    assert not out_dir.exists()
    hook = HOOKS.build(dict(type='SegVisualizationHook', draw=True, out_dir=str(out_dir), interval=2))
    hook.after_val_iter(fake_runner(), 0, outputs=make_outputs(tmp_path, names=('first.jpg', )))
    hook.after_val_iter(fake_runner(), 1, outputs=make_outputs(tmp_path, names=('second.jpg', )))
    assert [p.name for p in out_dir.iterdir()] == ['second.png']
