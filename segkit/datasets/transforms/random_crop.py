"""DeepLab-style random crop that avoids crops dominated by one class."""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from segkit.registry import TRANSFORMS

MAX_TRIES = 10


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Crop ``img`` and every map in ``seg_fields`` to ``crop_size`` (h, w) at the same random offset.

    With ``cat_max_ratio < 1`` up to 10 offsets are tried until one gives a crop where no single class covers
    ``cat_max_ratio`` or more of the labelled (non-``ignore_index``) pixels and at least two classes appear, as
    in MMSegmentation; if none does, the try with the smallest dominant-class share is kept. Class shares come
    from one ``np.bincount`` per try. An image smaller than the crop is cropped to what exists (no padding: the
    model's data preprocessor pads batches).

    Updates ``img``, ``img_shape``, the ``seg_fields`` maps, and sets ``crop_bbox`` = (y1, y2, x1, x2).
    """

    def __init__(self, *, crop_size: Union[int, Sequence[int]], cat_max_ratio: float = 1.0,
                 ignore_index: int = 255) -> None:
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        crop_size = tuple(crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'RandomCrop: crop_size must be a positive int or (h, w), got {crop_size}.')
        if not 0 < cat_max_ratio <= 1:
            raise ValueError(f'RandomCrop: cat_max_ratio must be in (0, 1], got {cat_max_ratio}.')
        self.crop_size: Tuple[int, int] = crop_size
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def _bbox(self, img_shape: Tuple[int, int]) -> Tuple[int, int, int, int]:
        margin_h = max(img_shape[0] - self.crop_size[0], 0)
        margin_w = max(img_shape[1] - self.crop_size[1], 0)
        y1, x1 = np.random.randint(0, margin_h + 1), np.random.randint(0, margin_w + 1)
        return y1, y1 + min(self.crop_size[0], img_shape[0]), x1, x1 + min(self.crop_size[1], img_shape[1])

    def _dominant_share(self, label: np.ndarray) -> float:
        """Share of the most frequent class among labelled pixels; 1.0 when fewer than 2 classes appear."""
        flat = label.ravel()
        if flat.dtype.kind != 'u':
            flat = flat[flat >= 0]
        counts = np.bincount(flat)
        if self.ignore_index < len(counts):
            counts[self.ignore_index] = 0
        total = counts.sum()
        if total == 0 or np.count_nonzero(counts) < 2:
            return 1.0
        return counts.max() / total

    @cache_randomness
    def _choose_bbox(self, results: dict) -> Tuple[int, int, int, int]:
        img_shape = results['img'].shape[:2]
        bbox = self._bbox(img_shape)
        label = results.get('gt_seg_map')
        fits = img_shape[0] <= self.crop_size[0] and img_shape[1] <= self.crop_size[1]
        if self.cat_max_ratio >= 1 or label is None or fits:
            return bbox
        best, best_share = bbox, 2.0
        for attempt in range(MAX_TRIES):
            if attempt:
                bbox = self._bbox(img_shape)
            y1, y2, x1, x2 = bbox
            share = self._dominant_share(label[y1:y2, x1:x2])
            if share < self.cat_max_ratio:
                return bbox
            if share < best_share:
                best, best_share = bbox, share
        return best

    def transform(self, results: dict) -> dict:
        y1, y2, x1, x2 = self._choose_bbox(results)
        results['img'] = results['img'][y1:y2, x1:x2]
        results['img_shape'] = results['img'].shape[:2]
        for key in results.get('seg_fields', ['gt_seg_map']):
            if results.get(key) is not None:
                results[key] = results[key][y1:y2, x1:x2]
        results['crop_bbox'] = (y1, y2, x1, x2)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={self.crop_size}, cat_max_ratio={self.cat_max_ratio}, '
                f'ignore_index={self.ignore_index})')
