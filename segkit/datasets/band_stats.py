"""Per-band mean and standard deviation of a set of images, accumulated image by image (in any order, in worker
processes) for ``SegDataPreProcessor(mean=..., std=...)``."""
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np


@dataclass
class BandMoments:
    """Pixel count and per-band sums of values and squared values (float64) of one or more images."""

    count: int
    total: np.ndarray
    squares: np.ndarray

    @classmethod
    def of_image(cls, image: np.ndarray) -> 'BandMoments':
        """The moments of an H x W (x C) image of any dtype."""
        values = image.reshape(-1, 1 if image.ndim == 2 else image.shape[2])
        values = values.astype(np.float64)
        return cls(values.shape[0], values.sum(axis=0), np.einsum('ij,ij->j', values, values))

    def __add__(self, other: 'BandMoments') -> 'BandMoments':
        if self.total.shape != other.total.shape:
            raise ValueError(f'images with {self.total.shape[0]} and {other.total.shape[0]} bands cannot share band '
                             'statistics; every image of a dataset needs the same bands')
        return BandMoments(self.count + other.count, self.total + other.total, self.squares + other.squares)

    @property
    def mean(self) -> np.ndarray:
        return self.total / max(self.count, 1)

    @property
    def std(self) -> np.ndarray:
        variance = self.squares / max(self.count, 1) - self.mean ** 2
        return np.sqrt(np.maximum(variance, 0))


def combine(moments: Sequence[BandMoments]) -> BandMoments:
    """The moments of all the images together."""
    if not moments:
        raise ValueError('no image to compute band statistics from')
    result = moments[0]
    for item in moments[1:]:
        result = result + item
    return result


def preprocessor_values(values: np.ndarray, order: List[int]) -> List[float]:
    """Per-band values in the model's channel order (``model_channel_order`` of the data preprocessor), rounded
    for a config."""
    return [round(float(values[i]), 3) for i in order]
