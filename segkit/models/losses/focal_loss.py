"""Softmax focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, eq. 5)."""
from typing import Optional, Sequence

import torch

from segkit.registry import LOSSES
from .base import SegLoss
from .probabilities import class_log_probabilities


@LOSSES.register_module()
class FocalLoss(SegLoss):
    """Multi-class focal loss: ``-(1 - p_t)^gamma * log(p_t)`` per pixel, p_t the softmax probability of the true
    class, so well-classified pixels (p_t near 1) count little.

    ``class_weight`` plays the paper's alpha_t (one factor per class); ``gamma=0`` gives cross-entropy. The mean
    follows :class:`SegLoss` (``avg_non_ignore``). On a one-channel sigmoid head it is the paper's binary form
    (p_t the sigmoid for the foreground, 1 - sigmoid for the background).
    """

    def __init__(self, *, gamma: float = 2.0, class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0, ignore_index: int = 255, avg_non_ignore: bool = True,
                 loss_name: str = 'loss_focal'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)
        if gamma < 0:
            raise ValueError(f'FocalLoss: gamma must be >= 0, got {gamma}')
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.checked_class_weight(logits.shape[1])
        valid = labels != self.ignore_index  # all ignored: reduce_pixel_losses gives 0 (no bool(tensor) sync)
        log_pt = class_log_probabilities(logits).gather(1, labels.masked_fill(~valid, 0)[:, None])[:, 0]
        pixel_losses = -(1 - log_pt.exp()).pow(self.gamma) * log_pt
        return self.loss_weight * self.reduce_pixel_losses(pixel_losses, labels)
