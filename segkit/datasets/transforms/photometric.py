"""SSD-style photometric distortion on uint8 images through lookup tables."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from segkit.registry import TRANSFORMS

_LEVELS = np.arange(256, dtype=np.float32)
_HUE_RANGE = 180  # OpenCV's 8-bit HSV stores hue as degrees / 2


def _affine_lut(alpha: float, beta: float) -> np.ndarray:
    """uint8 table of clip(v * alpha + beta), truncated like ``astype(uint8)`` on the float image."""
    return np.clip(_LEVELS * alpha + beta, 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class PhotoMetricDistortion(BaseTransform):
    """Random brightness, contrast, saturation and hue, each applied with probability 0.5.

    Order as in SSD / MMSegmentation: brightness, then contrast either first or last (50/50), saturation, hue.
    Brightness and contrast are per-pixel affine maps, so they run as 256-entry lookup tables on the uint8 image;
    saturation and hue share one BGR->HSV->BGR round trip. Only ``img`` changes (masks are untouched); the
    image stays uint8 HxWx3. Other images (N bands, 16-bit, float) are refused: ``BandBrightnessContrast`` is the
    step defined for them.
    """

    def __init__(self,
                 *,
                 brightness_delta: int = 32,
                 contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5),
                 hue_delta: int = 18) -> None:
        if not 0 <= hue_delta < _HUE_RANGE:
            raise ValueError(f'PhotoMetricDistortion: hue_delta must be in [0, {_HUE_RANGE}), got {hue_delta}.')
        self.brightness_delta = brightness_delta
        self.contrast_lower, self.contrast_upper = contrast_range
        self.saturation_lower, self.saturation_upper = saturation_range
        self.hue_delta = hue_delta

    @cache_randomness
    def _sample(self) -> Tuple[Optional[float], Optional[float], bool, Optional[float], Optional[int]]:
        """(brightness beta, contrast alpha, contrast_first, saturation alpha, hue shift); None = skipped."""
        rand = np.random
        beta = rand.uniform(-self.brightness_delta, self.brightness_delta) if rand.randint(2) else None
        contrast_first = bool(rand.randint(2))
        alpha = rand.uniform(self.contrast_lower, self.contrast_upper) if rand.randint(2) else None
        saturation = rand.uniform(self.saturation_lower, self.saturation_upper) if rand.randint(2) else None
        hue = int(rand.randint(-self.hue_delta, self.hue_delta + 1)) if rand.randint(2) else None
        return beta, alpha, contrast_first, saturation, hue

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise TypeError(f'PhotoMetricDistortion is defined for HxWx3 uint8 BGR images (saturation and hue are '
                            f"colour notions), got {img.dtype} {img.shape} for {results.get('img_path')}. For "
                            'multi-band or 16-bit / float images use BandBrightnessContrast (brightness and contrast '
                            'of every band); for 8-bit BGR, put it before any float conversion.')
        beta, alpha, contrast_first, saturation, hue = self._sample()
        img = np.ascontiguousarray(img)
        # Brightness then contrast compose into one table: a single pass over the image.
        lut = _affine_lut(1.0, beta) if beta is not None else None
        if alpha is not None and contrast_first:
            contrast = _affine_lut(alpha, 0.0)
            lut = contrast if lut is None else contrast[lut]
        if lut is not None:
            img = cv2.LUT(img, lut)
        if (saturation is not None and saturation != 1.0) or hue:
            img = self._shift_hsv(img, saturation, hue)
        if alpha is not None and not contrast_first:
            img = cv2.LUT(img, _affine_lut(alpha, 0.0))
        results['img'] = img
        return results

    @staticmethod
    def _shift_hsv(img: np.ndarray, saturation: Optional[float], hue: Optional[int]) -> np.ndarray:
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        h, s, v = cv2.split(hsv)
        if saturation is not None:
            s = cv2.LUT(s, _affine_lut(saturation, 0.0))
        if hue:
            h = cv2.LUT(h, ((np.arange(256) + hue) % _HUE_RANGE).astype(np.uint8))
        return cv2.cvtColor(cv2.merge((h, s, v)), cv2.COLOR_HSV2BGR)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, contrast_range=('
                f'{self.contrast_lower}, {self.contrast_upper}), saturation_range=({self.saturation_lower}, '
                f'{self.saturation_upper}), hue_delta={self.hue_delta})')
