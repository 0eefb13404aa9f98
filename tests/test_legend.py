"""Legends, panel titles, palette label PNGs, and the validation hook drawing them (and feeding the visualizer)."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from PIL import Image

from segkit.registry import HOOKS
from segkit.structures import SegDataSample
from segkit.visualization import (add_legend, add_titles, get_palette, legend_entries, read_label_png,
                                  write_label_png)

PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]  # RGB
CLASSES = ('sky', 'tree', 'road', 'car')


def test_legend_entries_list_present_classes_with_their_share():
    labels = np.array([[0, 0, 0, 2], [2, 2, 255, 255]])
    entries = legend_entries([labels], CLASSES, PALETTE, with_share=True)
    assert entries == [('sky 50.0%', (255, 0, 0)), ('road 50.0%', (0, 0, 255))]  # 255 is ignored, not counted
    both = legend_entries([labels, torch.tensor([[3, 3]])], CLASSES, PALETTE)
    assert [name for name, _ in both] == ['sky', 'road', 'car']
    assert legend_entries([np.array([[7]])], CLASSES, get_palette(num_classes=8))[0][0] == '7'  # no name: the id


def test_legend_panel_shows_each_colour_and_grows_the_canvas():
    canvas = np.full((20, 30, 3), 90, dtype=np.uint8)
    out = add_legend(canvas, [('sky', (255, 0, 0)), ('road', (0, 0, 255)), ('car', (255, 255, 0))])
    assert out.shape[1] > 30 and out.shape[0] >= 20
    assert np.array_equal(out[:20, :30], canvas)
    panel = out[:, 30:].reshape(-1, 3)
    for bgr in [(0, 0, 255), (255, 0, 0), (0, 255, 255)]:  # the RGB colours, flipped for the BGR canvas
        assert (panel == bgr).all(axis=1).sum() > 20
    assert out.shape[0] > 20  # three rows do not fit beside 20 pixels: extended with white
    assert (out[20:, :30] == 255).all()
    assert np.array_equal(add_legend(canvas, []), canvas)


def test_titles_strip_has_text_over_each_panel():
    canvas = np.full((40, 120, 3), 200, dtype=np.uint8)
    out = add_titles(canvas, ['image', 'ground truth', 'prediction'])
    strip = out[:out.shape[0] - 40]
    assert np.array_equal(out[-40:], canvas) and strip.shape[0] > 5
    for third in range(3):
        assert (strip[:, third * 40:(third + 1) * 40] < 128).any()  # dark text in every panel's part


def test_label_png_opens_in_colour_and_keeps_the_ids(tmp_path):
    labels = np.array([[0, 1, 2], [3, 3, 0]])
    path = tmp_path / 'sub' / 'labels.png'
    write_label_png(path, torch.tensor(labels)[None], PALETTE)
    with Image.open(path) as image:
        assert image.mode == 'P'
    assert np.array_equal(read_label_png(path), labels)
    colour = cv2.imread(str(path))  # what an image viewer shows
    assert tuple(colour[0, 1]) == (0, 255, 0) and tuple(colour[1, 0]) == (0, 255, 255)
    with pytest.raises(ValueError, match='0-255'):
        write_label_png(tmp_path / 'big.png', np.array([[300]]), PALETTE)


def test_hook_titles_and_legend_and_sends_validation_images_to_the_visualizer(tmp_path):
    image_path = tmp_path / 'frame.png'
    cv2.imwrite(str(image_path), np.full((32, 40, 3), 60, dtype=np.uint8))
    sample = SegDataSample(metainfo=dict(img_path=str(image_path), ori_shape=(32, 40)))
    sample.pred_sem_seg = PixelData(data=torch.full((1, 32, 40), 1))
    gt = torch.full((1, 32, 40), 3)
    gt[:, :4] = 255
    sample.gt_sem_seg = PixelData(data=gt)
    sent = []
    visualizer = SimpleNamespace(dataset_meta=dict(classes=CLASSES, palette=PALETTE),
                                 add_image=lambda name, image, step: sent.append((name, image, step)))
    runner = SimpleNamespace(visualizer=visualizer, iter=7, work_dir=str(tmp_path))
    hook = HOOKS.build(dict(type='SegVisualizationHook', draw=True, out_dir='overlays', interval=1, alpha=1.0))
    hook.after_val_iter(runner, 0, outputs=[sample])
    drawn = cv2.imread(str(tmp_path / 'overlays' / 'frame.png'))
    assert drawn.shape[0] > 32 and drawn.shape[1] > 3 * 40  # title strip above, legend right
    legend = drawn[:, 120:].reshape(-1, 3)
    assert (legend == (0, 255, 0)).all(axis=1).any()       # 'tree' (prediction), BGR
    assert (legend == (0, 255, 255)).all(axis=1).any()     # 'car' (ground truth)
    assert not (legend == (0, 0, 255)).all(axis=1).any()   # 'sky' is in neither
    assert [(name, step) for name, _, step in sent] == [('val/frame', 7)]
    assert np.array_equal(sent[0][1], drawn[..., ::-1])    # the visualizer gets RGB
    hook.after_test_iter(runner, 0, outputs=[sample])
    assert len(sent) == 1  # test images are only written to out_dir
