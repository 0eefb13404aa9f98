"""tools/dataset_converters/tiling.py: known tile positions, and the same tiles as MMSegmentation's converters
(their box arithmetic restated below) for every image size in a range."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools' / 'dataset_converters'))
from tiling import pad_to_size, tile_boxes, tile_starts  # noqa: E402


def test_known_starts_last_tile_flush_with_the_border():
    assert tile_starts(10, 4, 3) == [0, 3, 6]  # 9 would cross the border: moved back to 6, a duplicate
    assert tile_starts(11, 4, 3) == [0, 3, 6, 7]  # 9 -> 7: the last tile is 7..10
    assert tile_starts(12, 4, 4) == [0, 4, 8]  # an exact fit adds nothing
    assert tile_starts(4, 4, 3) == [0]
    assert tile_starts(1000, 896, 512) == [0, 104]  # an iSAID image of 1000 pixels: two patches


def test_potsdam_orthophoto_tiles():
    starts = tile_starts(6000, 512, 512)
    assert starts == list(range(0, 5121, 512)) + [5488]
    boxes = tile_boxes(6000, 6000, 512, 512)
    assert len(boxes) == 144  # x 24 train orthophotos = MMSegmentation's 3456 train tiles
    assert boxes[:2] == [(0, 0, 512, 512), (512, 0, 1024, 512)]  # row by row
    assert boxes[-1] == (5488, 5488, 6000, 6000)
    assert len(tile_boxes(6000, 6000, 512, 256)) == 23 * 23  # real overlap: 0, 256, ..., 5376 and 5488


def test_boxes_cover_every_pixel_and_stay_inside():
    for height, width in ((9, 17), (8, 8), (23, 12)):
        covered = np.zeros((height, width), int)
        for x0, y0, x1, y1 in tile_boxes(height, width, 8, 5):
            assert 0 <= x0 and x1 == x0 + 8 <= width and 0 <= y0 and y1 == y0 + 8 <= height
            covered[y0:y1, x0:x1] += 1
        assert covered.min() >= 1


def mmseg_isprs_boxes(h: int, w: int, cs: int, ss: int) -> set:
    """MMSegmentation's potsdam.py / vaihingen.py clip_big_image box arithmetic (tiles at multiples of cs)."""
    num_rows = math.ceil((h - cs) / ss) if math.ceil((h - cs) / ss) * ss + cs >= h else math.ceil((h - cs) / ss) + 1
    num_cols = math.ceil((w - cs) / ss) if math.ceil((w - cs) / ss) * ss + cs >= w else math.ceil((w - cs) / ss) + 1
    x, y = np.meshgrid(np.arange(num_cols + 1), np.arange(num_rows + 1))
    xmin, ymin = (x * cs).ravel(), (y * cs).ravel()
    xmin_offset = np.where(xmin + cs > w, w - xmin - cs, np.zeros_like(xmin))
    ymin_offset = np.where(ymin + cs > h, h - ymin - cs, np.zeros_like(ymin))
    boxes = np.stack([xmin + xmin_offset, ymin + ymin_offset, np.minimum(xmin + cs, w), np.minimum(ymin + cs, h)], 1)
    return {tuple(int(v) for v in box) for box in boxes}


def mmseg_isaid_boxes(h: int, w: int, patch: int, overlap: int) -> set:
    """MMSegmentation's isaid.py slide_crop loops, after its padding of images smaller than a patch."""
    h, w = max(h, patch), max(w, patch)
    boxes = set()
    for x in range(0, w, patch - overlap):
        for y in range(0, h, patch - overlap):
            x_str, x_end = (x, x + patch) if x + patch <= w else (w - patch, w)
            y_str, y_end = (y, y + patch) if y + patch <= h else (h - patch, h)
            boxes.add((x_str, y_str, x_end, y_end))
    return boxes


@pytest.mark.parametrize('height', range(16, 41, 3))
def test_same_tiles_as_mmsegmentation(height):
    for width in range(16, 41):
        # its ISPRS converters' --stride_size 256 with 512 tiles, scaled down: their tiles are ours at stride=size
        assert set(tile_boxes(height, width, 16, 16)) == mmseg_isprs_boxes(height, width, 16, 8)
        # iSAID's 896 patches overlapping by 384, scaled down to 14 and 6
        assert set(tile_boxes(height, width, 14, 8)) == mmseg_isaid_boxes(height, width, 14, 6)
    padded_height = max(height - 10, 14)  # iSAID pads images smaller than a patch
    assert set(tile_boxes(padded_height, 14, 14, 8)) == mmseg_isaid_boxes(height - 10, 9, 14, 6)


def test_pad_to_size_pads_bottom_right_only_where_short():
    labels = np.arange(6, dtype=np.uint8).reshape(2, 3)
    padded = pad_to_size(labels, 4, 255)
    assert padded.shape == (4, 4) and padded[:2, :3].tolist() == labels.tolist()
    assert (padded[2:] == 255).all() and (padded[:, 3] == 255).all()
    image = np.ones((5, 2, 3), np.uint8)
    assert pad_to_size(image, 4, 0).shape == (5, 4, 3)
    assert pad_to_size(labels, 2, 0) is labels  # nothing to pad: unchanged


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match='axis of 3 pixels is shorter than the tile size 4; pad the image first'):
        tile_starts(3, 4, 2)
    with pytest.raises(ValueError, match=r'tile size \(4\) and stride \(0\) must be positive'):
        tile_starts(10, 4, 0)
