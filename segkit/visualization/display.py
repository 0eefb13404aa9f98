"""Any image as an 8-bit BGR picture to draw on: three bands picked from a multi-band image and stretched from
high bit depths."""
from typing import Optional, Sequence

import cv2
import numpy as np

__all__ = ['display_image']

#: the percentiles mapped to 0 and 255 when a band is not 8-bit
STRETCH = (2.0, 98.0)


def _stretch(band: np.ndarray) -> np.ndarray:
    low, high = np.percentile(band, STRETCH)
    if high <= low:
        high = low + 1
    return np.clip(np.rint((band.astype(np.float32) - low) * (255.0 / (high - low))), 0, 255).astype(np.uint8)


def display_image(image: np.ndarray, bands: Optional[Sequence[int]] = None) -> np.ndarray:
    """An H x W x 3 uint8 BGR picture of ``image`` (H x W, or H x W x C of any dtype).

    ``bands``: the bands shown as red, green and blue (one index: grey). Without it an 8-bit 3-band image is taken
    as BGR, as OpenCV loads it, and is returned unchanged; any other is shown through its first three bands as
    RGB (``LoadMultiBandImage``'s file order), or its first band in grey when it has fewer than three. Bands that
    are not uint8 are stretched from their 2nd-98th percentiles to 0-255.
    """
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f'an image is HxW or HxWxC, got shape {image.shape}')
    if bands is None:
        if image.shape[2] == 3 and image.dtype == np.uint8:
            return image
        bands = (0, 1, 2) if image.shape[2] >= 3 else (0, )
    bands = list(bands)
    if len(bands) not in (1, 3) or any(not 0 <= b < image.shape[2] for b in bands):
        raise ValueError(f'display bands {bands} must be 1 or 3 indices of the image\'s {image.shape[2]} bands '
                         f'(0..{image.shape[2] - 1})')
    picked = [image[..., b] if image.dtype == np.uint8 else _stretch(image[..., b]) for b in bands]
    if len(picked) == 1:
        return cv2.cvtColor(picked[0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(np.stack(picked[::-1], axis=-1))  # R, G, B -> BGR
