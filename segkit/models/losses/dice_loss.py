"""Soft Dice loss on softmax probabilities (Milletari et al., V-Net, 3DV 2016, eq. 1, one term per class)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from segkit.registry import LOSSES
from .base import SegLoss, zero_loss


@LOSSES.register_module()
class DiceLoss(SegLoss):
    """``1 - (2 * sum(p * g) + smooth) / (sum(p^exponent) + sum(g) + smooth)`` for each class (p the class's
    softmax probability, g its one-hot label, sums over the labelled pixels), averaged over the classes.

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

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        class_weight = self.checked_class_weight(logits.shape[1])
        valid = labels != self.ignore_index
        if not bool(valid.any()):
            return zero_loss(logits)
        num_images, num_classes = logits.shape[:2]
        probs = F.softmax(logits.float(), dim=1).permute(0, 2, 3, 1)[valid]  # labelled pixels x classes
        targets = labels[valid]
        groups = num_images if self.per_image else 1
        group = torch.nonzero(valid)[:, 0] if self.per_image else torch.zeros_like(targets)
        # sums per (image or batch, class) without a one-hot tensor: index_add at group * C + class
        cell = group * num_classes + targets
        true_prob = probs.gather(1, targets[:, None])[:, 0]
        intersection = probs.new_zeros(groups * num_classes).index_add_(0, cell, true_prob)
        label_area = probs.new_zeros(groups * num_classes).index_add_(0, cell, torch.ones_like(true_prob))
        prob_mass = probs.new_zeros(groups, num_classes).index_add_(0, group, probs.pow(self.exponent))
        dice = (2 * intersection.view(groups, num_classes) + self.smooth) / (
            prob_mass + label_area.view(groups, num_classes) + self.smooth)
        losses = 1 - dice
        if class_weight is not None:
            losses = losses * class_weight
        losses = losses.mean(dim=1)
        return self.loss_weight * self.reduce_region_losses(losses if self.per_image else losses[0], labels)
