"""Logits -> predictions, one way for the segmentor, exported models and test-time augmentation alike.

A model with C >= 2 outputs is a softmax classifier: the label is the arg-max. A model with one output
(``num_classes=1``, binary cross-entropy) is a sigmoid: the label is ``probability > threshold`` (1 = foreground).
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from segkit.structures import SegDataSample

_EPS = 1e-12


def to_probabilities(logits: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Class probabilities: the softmax over ``dim``, or the sigmoid of a single channel."""
    return logits.float().sigmoid() if logits.shape[dim] == 1 else logits.float().softmax(dim=dim)


def from_probabilities(probs: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Logits that give ``probs`` back under :func:`to_probabilities` (log for softmax, logit for a sigmoid)."""
    if probs.shape[dim] == 1:
        probs = probs.clamp(_EPS, 1 - 1e-7)
        return probs.log() - (1 - probs).log()
    return probs.clamp_min(_EPS).log()


def labels_from_logits(logits: torch.Tensor, threshold: float = 0.5, dim: int = 0) -> torch.Tensor:
    """The label map (channel ``dim`` kept, size 1) of class logits."""
    if logits.shape[dim] == 1:
        return (logits.float().sigmoid() > threshold).to(torch.int64)
    return logits.argmax(dim=dim, keepdim=True)


def to_original_size(logits: torch.Tensor, meta: dict, align_corners: bool) -> torch.Tensor:
    """One image's ``C x H x W`` logits at the network input's size -> at its original size.

    The padding the data preprocessor added (``padding_size``: left, right, top, bottom) is cropped, a flip made
    by the test pipeline (``flip``, ``flip_direction``) undone, and the rest resized bilinearly to ``ori_shape``.
    """
    left, right, top, bottom = meta.get('padding_size', None) or (0, 0, 0, 0)
    h, w = logits.shape[-2:]
    logits = logits[:, top:h - bottom, left:w - right]
    if meta.get('flip', False):
        dims = (2, ) if meta.get('flip_direction', 'horizontal') == 'horizontal' else (1, )
        logits = logits.flip(dims)
    ori_shape = tuple(meta.get('ori_shape', logits.shape[-2:])[:2])
    if tuple(logits.shape[-2:]) != ori_shape:
        logits = F.interpolate(logits[None], size=ori_shape, mode='bilinear', align_corners=align_corners)[0]
    return logits


def set_predictions(sample: SegDataSample, logits: torch.Tensor, threshold: float = 0.5) -> SegDataSample:
    """Store ``C x H x W`` logits at the original size and their labels on ``sample``."""
    sample.seg_logits = PixelData(data=logits)
    sample.pred_sem_seg = PixelData(data=labels_from_logits(logits, threshold))
    return sample


def logits_to_predictions(seg_logits: Sequence[torch.Tensor], data_samples: List[SegDataSample], *,
                          align_corners: bool, threshold: Optional[float] = None) -> List[SegDataSample]:
    """``seg_logits`` (one ``C x H x W`` per sample, at the network input's size) -> ``seg_logits`` and
    ``pred_sem_seg`` of each sample at its original size."""
    for logits, sample in zip(seg_logits, data_samples):
        set_predictions(sample, to_original_size(logits, sample.metainfo, align_corners),
                        0.5 if threshold is None else threshold)
    return data_samples
