"""Colour-coded label images (ISPRS, iSAID) to label indices."""
from typing import Sequence, Tuple

import numpy as np


def colours_to_labels(rgb: np.ndarray, colours: Sequence[Sequence[int]], other: int = 0) -> Tuple[np.ndarray, int]:
    """``(labels, unmatched)``: the HxW uint8 map of an HxWx3 RGB image, ``i`` where a pixel is ``colours[i]`` and
    ``other`` where it is none of them, and the number of such unmatched pixels."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'a colour-coded label image has 3 channels, got shape {rgb.shape}')
    codes = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    labels = np.full(codes.shape, other, np.uint8)
    matched = np.zeros(codes.shape, bool)
    for index, (r, g, b) in enumerate(colours):
        hit = codes == ((r << 16) | (g << 8) | b)
        labels[hit] = index
        matched |= hit
    return labels, int(codes.size - np.count_nonzero(matched))
