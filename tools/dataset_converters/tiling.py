"""Cutting large images into square tiles as MMSegmentation's converters do: a tile every ``stride`` pixels, the
last one moved back so that it ends flush with the border (it then overlaps its neighbour more).

- ISPRS Potsdam and Vaihingen (``potsdam.py``, ``vaihingen.py``): tiles of 512. MMSegmentation's converters take
  ``--stride_size 256`` but place tiles at multiples of the tile size (``xmin = x * clip_size``), so what they
  write, and what its published tile counts (Potsdam 3456 / 2016, Vaihingen 344 / 398) and results come from, is
  ``stride=512``; segkit's converters default to that and take ``--stride`` for real overlap.
- iSAID (``isaid.py``): patches of 896 every 512 pixels (an overlap of 384); images smaller than a patch are first
  padded at the bottom and right (:func:`pad_to_size`).
"""
from typing import Callable, List, Sequence, Tuple

import numpy as np

from archives import write_image

Box = Tuple[int, int, int, int]  # x0, y0, x1, y1: columns x0..x1-1, rows y0..y1-1


def tile_starts(length: int, size: int, stride: int) -> List[int]:
    """Where tiles of ``size`` start along an axis of ``length`` pixels: ``0, stride, 2 * stride, ...`` while they
    start inside the image, each moved back to ``length - size`` where it would cross the border (duplicates
    dropped), so the tiles cover every pixel and the last one ends at ``length``."""
    if size <= 0 or stride <= 0:
        raise ValueError(f'tile size ({size}) and stride ({stride}) must be positive')
    if length < size:
        raise ValueError(f'an axis of {length} pixels is shorter than the tile size {size}; pad the image first '
                         '(pad_to_size) or choose a smaller tile size')
    return sorted({min(start, length - size) for start in range(0, length, stride)})


def tile_boxes(height: int, width: int, size: int, stride: int) -> List[Box]:
    """The ``(x0, y0, x1, y1)`` boxes of the tiles of a ``height`` x ``width`` image, row by row."""
    xs, ys = tile_starts(width, size, stride), tile_starts(height, size, stride)
    return [(x, y, x + size, y + size) for y in ys for x in xs]


def pad_to_size(image: np.ndarray, size: int, value: int) -> np.ndarray:
    """``image`` padded with ``value`` at the bottom and right up to ``size`` along each shorter axis."""
    pad_h, pad_w = max(size - image.shape[0], 0), max(size - image.shape[1], 0)
    if not pad_h and not pad_w:
        return image
    pad = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, pad, constant_values=value)


def save_tiles(image: np.ndarray, boxes: Sequence[Box], path_of: Callable[[Box], str]) -> None:
    """Write the part of ``image`` in each box to ``path_of(box)`` (the format from its suffix)."""
    for box in boxes:
        x0, y0, x1, y1 = box
        write_image(path_of(box), image[y0:y1, x0:x1])
