"""Class statistics of a dataset's label maps: per-image pixel counts and the class weights made from them."""
from typing import Tuple

import numpy as np

from .transforms.loading import LoadAnnotations

__all__ = ['label_histograms', 'class_weights', 'WEIGHTINGS']


def label_histograms(dataset) -> Tuple[np.ndarray, np.ndarray]:
    """``(counts, image_pixels)``: an N x C int64 array of each image's class pixel counts (after the dataset's
    ``reduce_zero_label`` / ``label_map``; ignored pixels count nowhere) and each mask's total pixel count."""
    num_classes = len(dataset.metainfo['classes'])
    load = LoadAnnotations()
    counts = np.zeros((len(dataset), num_classes), np.int64)
    image_pixels = np.zeros(len(dataset), np.int64)
    for i in range(len(dataset)):
        seg = load(dict(dataset.get_data_info(i)))['gt_seg_map']
        counts[i] = np.bincount(seg[seg < num_classes].ravel(), minlength=num_classes)[:num_classes]
        image_pixels[i] = seg.size
    return counts, image_pixels


def _median_frequency(counts: np.ndarray, image_pixels: np.ndarray, enet_c: float) -> np.ndarray:
    # Eigen & Fergus (ICCV 2015): freq_c = pixels of c / pixels of the images containing c; w_c = median / freq_c
    present_in = counts > 0
    freq = counts.sum(axis=0) / np.maximum((present_in * image_pixels[:, None]).sum(axis=0), 1)
    return np.median(freq[freq > 0]) / np.where(freq > 0, freq, np.inf)


def _inverse_sqrt(counts: np.ndarray, image_pixels: np.ndarray, enet_c: float) -> np.ndarray:
    # 1 / sqrt(p_c), p_c the class's share of labelled pixels; scaled so the median class weighs 1
    share = counts.sum(axis=0) / max(counts.sum(), 1)
    weights = 1 / np.sqrt(np.where(share > 0, share, np.inf))
    return weights / np.median(weights[share > 0])


def _enet(counts: np.ndarray, image_pixels: np.ndarray, enet_c: float) -> np.ndarray:
    # Paszke et al., ENet (2016) section 5.2: w_c = 1 / ln(c + p_c), bounded by 1 / ln(c) (about 50 for c = 1.02)
    share = counts.sum(axis=0) / max(counts.sum(), 1)
    return 1 / np.log(enet_c + share)


WEIGHTINGS = {'median': _median_frequency, 'inv_sqrt': _inverse_sqrt, 'enet': _enet}


def class_weights(counts: np.ndarray, image_pixels: np.ndarray, method: str = 'median',
                  enet_c: float = 1.02) -> np.ndarray:
    """Class weights for ``CrossEntropyLoss(class_weight=...)`` from :func:`label_histograms`.

    ``'median'``: median frequency balancing; ``'inv_sqrt'``: inverse square root of the pixel share;
    ``'enet'``: ENet's log smoothing ``1 / ln(enet_c + p_c)``. A class without any pixel gets weight 0
    (``'median'``, ``'inv_sqrt'``) or the bound ``1 / ln(enet_c)`` (``'enet'``).
    """
    if method not in WEIGHTINGS:
        raise ValueError(f'unknown class weighting {method!r}; choose from {sorted(WEIGHTINGS)}')
    if enet_c <= 1:
        raise ValueError(f'enet_c must be > 1 (ln(c + p) must stay positive), got {enet_c}')
    return WEIGHTINGS[method](np.asarray(counts), np.asarray(image_pixels), enet_c)
