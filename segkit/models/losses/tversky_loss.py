"""Tversky loss (Salehi et al., "Tversky loss function for image segmentation using 3D fully convolutional deep
networks", MLMI 2017, eq. 3), with the focal exponent of Abraham & Khan (ISBI 2019)."""
from typing import Optional, Sequence

import torch

from segkit.registry import LOSSES
from .region_loss import RegionLoss


@LOSSES.register_module()
class TverskyLoss(RegionLoss):
    """``(1 - TI) ** gamma`` per class, ``TI = (TP + smooth) / (TP + alpha * FP + beta * FN + smooth)`` with the
    soft counts TP = sum(p * g), FP = sum(p * (1 - g)), FN = sum((1 - p) * g) over the labelled pixels (p the
    class's probability, g its one-hot label), averaged over the classes.

    ``alpha = beta = 0.5`` is the Dice loss (exponent 1, without smoothing); ``beta > alpha`` weighs missed pixels
    more (recall), the paper's choice for small structures. On a one-channel sigmoid head (``num_classes=1``) it is
    the foreground's term alone, as for :class:`DiceLoss`.

    Args:
        alpha: weight of false positives.
        beta: weight of false negatives.
        gamma: focal exponent on ``1 - TI`` (1: the plain Tversky loss).
        smooth: added to numerator and denominator; a class absent from labels and predictions scores 0 loss.
        per_image: one loss per image, averaged over images, rather than one over the batch.
        class_weight, loss_weight, ignore_index, avg_non_ignore, loss_name: as :class:`DiceLoss`.
    """

    def __init__(self, *, alpha: float = 0.3, beta: float = 0.7, gamma: float = 1.0, smooth: float = 1.0,
                 per_image: bool = False, class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 ignore_index: int = 255, avg_non_ignore: bool = True, loss_name: str = 'loss_tversky'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)
        if alpha < 0 or beta < 0 or alpha + beta <= 0:
            raise ValueError(f'TverskyLoss: alpha and beta must be >= 0 with a positive sum, got {alpha}, {beta}')
        if gamma <= 0:
            raise ValueError(f'TverskyLoss: gamma must be > 0, got {gamma}')
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.smooth = smooth
        self.per_image = per_image

    def class_losses(self, true_pos: torch.Tensor, prob_mass: torch.Tensor, label_area: torch.Tensor) -> torch.Tensor:
        false_pos, false_neg = prob_mass - true_pos, label_area - true_pos
        index = (true_pos + self.smooth) / (true_pos + self.alpha * false_pos + self.beta * false_neg + self.smooth)
        return (1 - index).clamp(min=0).pow(self.gamma)
