"""Brightness and contrast for images of any band count and bit depth (saturation and hue are colour notions,
defined for BGR images only: :class:`PhotoMetricDistortion`)."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from segkit.registry import TRANSFORMS


def value_range(dtype: np.dtype, given: Optional[Sequence[float]], where: str) -> Tuple[float, float]:
    """``(low, high)`` of an image's values: ``given``, else the full range of an integer dtype; a float image
    has no natural range and needs ``given``."""
    if given is not None:
        low, high = (float(v) for v in given)
        if not low < high:
            raise ValueError(f'{where}: value_range={tuple(given)} must be (low, high) with low < high')
        return low, high
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    raise TypeError(f'{where}: a {np.dtype(dtype).name} image has no fixed value range; give value_range=(low, high) '
                    '(e.g. (0, 1) for reflectances)')


@TRANSFORMS.register_module()
class BandBrightnessContrast(BaseTransform):
    """Random brightness then contrast on every band, each applied with probability 0.5, for any number of bands
    and uint8 / uint16 / float images (defined for N bands, unlike :class:`PhotoMetricDistortion`).

    Brightness adds ``delta * (high - low)`` with ``delta`` uniform in ``[-brightness_delta, brightness_delta]``;
    contrast multiplies by a factor uniform in ``contrast_range``. ``per_band=True`` draws each band's own delta
    and factor (sensor gain differences), False one for all. The result is clipped to the value range
    (``value_range``, default the integer dtype's range) and keeps the dtype, rounded for integer images.

    Args:
        brightness_delta: the largest shift, as a fraction of the value range (32 / 255 matches
            ``PhotoMetricDistortion``'s 32 on 8-bit images).
        contrast_range: ``(low, high)`` of the contrast factor.
        per_band: independent draws per band.
        value_range: ``(low, high)`` of the image values; needed for float images.
    """

    def __init__(self, *, brightness_delta: float = 32 / 255, contrast_range: Sequence[float] = (0.5, 1.5),
                 per_band: bool = False, value_range: Optional[Sequence[float]] = None) -> None:
        if not 0 <= brightness_delta <= 1:
            raise ValueError(f'BandBrightnessContrast: brightness_delta={brightness_delta} is a fraction of the value '
                             'range, in [0, 1]')
        low, high = contrast_range
        if not 0 <= low <= high:
            raise ValueError(f'BandBrightnessContrast: contrast_range={tuple(contrast_range)} must be (low, high) '
                             'with 0 <= low <= high')
        self.brightness_delta = float(brightness_delta)
        self.contrast_range = (float(low), float(high))
        self.per_band = per_band
        self.value_range = None if value_range is None else tuple(value_range)

    @cache_randomness
    def _sample(self, num_bands: int) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """(brightness deltas, contrast factors), one per band (or one shared); None = skipped."""
        draws = num_bands if self.per_band else 1
        delta = np.random.uniform(-self.brightness_delta, self.brightness_delta, draws) if np.random.randint(2) \
            else None
        factor = np.random.uniform(*self.contrast_range, draws) if np.random.randint(2) else None
        return delta, factor

    def transform(self, results: dict) -> dict:
        img = results['img']
        image = img if img.ndim == 3 else img[..., None]
        low, high = value_range(image.dtype, self.value_range, f"BandBrightnessContrast ({results.get('img_path')})")
        delta, factor = self._sample(image.shape[2])
        if delta is None and factor is None:
            return results
        out = image.astype(np.float32)
        if delta is not None:
            out += (delta * (high - low)).astype(np.float32)
        if factor is not None:
            out *= factor.astype(np.float32)
        np.clip(out, low, high, out=out)
        if np.issubdtype(image.dtype, np.integer):
            out = np.rint(out)
        results['img'] = out.astype(image.dtype).reshape(img.shape)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, contrast_range='
                f'{self.contrast_range}, per_band={self.per_band}, value_range={self.value_range})')
