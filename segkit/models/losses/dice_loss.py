"""Soft Dice loss on class probabilities (Milletari et al., V-Net, 3DV 2016, eq. 1, one term per class)."""
from typing import Optional, Sequence

import torch

from segkit.registry import LOSSES
from .region_loss import RegionLoss


@LOSSES.register_module()
class DiceLoss(RegionLoss):
    """``1 - (2 * sum(p * g) + smooth) / (sum(p^exponent) + sum(g) + smooth)`` for each class (p the class's
    softmax probability, g its one-hot label, sums over the labelled pixels), averaged over the classes.

    On a one-channel sigmoid head (``num_classes=1``, labels 0 / 1) it is the Dice of the foreground alone (p the
    sigmoid), as binary Dice losses are; ``class_weight`` then has the two entries of background and foreground.

    Args:
        smooth: added to numerator and denominator; a class absent from labels and predictions scores 0 loss.
        exponent: power on the probabilities in the denominator (2 in V-Net).
        per_image: compute the Dice of each image and average them, rather than one Dice over the batch.
        class_weight: factor on each class's term; the mean over classes is then of ``w_c * loss_c``.
        avg_non_ignore: False scales the loss by the labelled share of pixels (see :class:`SegLoss`).
    """

    def __init__(self, *, smooth: float = 1.0, exponent: float = 2.0, per_image: bool = False,
                 class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0, ignore_index: int = 255,
                 avg_non_ignore: bool = True, loss_name: str = 'loss_dice'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)
        self.smooth = smooth
        self.exponent = exponent
        self.per_image = per_image

    def class_losses(self, intersection: torch.Tensor, prob_mass: torch.Tensor,
                     label_area: torch.Tensor) -> torch.Tensor:
        return 1 - (2 * intersection + self.smooth) / (prob_mass + label_area + self.smooth)
