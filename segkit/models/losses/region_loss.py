"""Region losses (Dice, Tversky): per-class terms of soft pixel counts over the labelled pixels."""
from typing import Tuple

import torch

from .base import SegLoss, zero_loss
from .probabilities import class_probabilities


def region_sums(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, per_image: bool,
                exponent: float = 1.0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(intersection, prob_mass, label_area)``, each G x K (G = images with ``per_image``, else 1; K classes, 2
    for a one-channel sigmoid head): ``sum(p * g)``, ``sum(p ** exponent)`` and ``sum(g)`` over the ``valid``
    pixels, p a class's probability and g its one-hot label. No one-hot tensor is built: the sums are ``index_add``
    at ``group * K + class``."""
    num_images = logits.shape[0]
    probs = class_probabilities(logits).permute(0, 2, 3, 1)[valid]  # labelled pixels x K
    num_classes = probs.shape[1]
    targets = labels[valid]
    groups = num_images if per_image else 1
    group = torch.nonzero(valid)[:, 0] if per_image else torch.zeros_like(targets)
    cell = group * num_classes + targets
    true_prob = probs.gather(1, targets[:, None])[:, 0]
    intersection = probs.new_zeros(groups * num_classes).index_add_(0, cell, true_prob)
    label_area = probs.new_zeros(groups * num_classes).index_add_(0, cell, torch.ones_like(true_prob))
    prob_mass = probs.new_zeros(groups, num_classes).index_add_(0, group, probs.pow(exponent))
    return intersection.view(groups, num_classes), prob_mass, label_area.view(groups, num_classes)


def scored_classes(losses: torch.Tensor, num_channels: int) -> torch.Tensor:
    """The per-class terms (G x K) a region loss averages: all of them for a softmax head, the foreground's
    alone for a one-channel sigmoid head (what binary Dice / Tversky mean)."""
    return losses[:, 1:] if num_channels == 1 else losses


class RegionLoss(SegLoss):
    """Base of the losses made of one term per class from :func:`region_sums`: the terms are weighted by
    ``class_weight``, averaged over the classes (:func:`scored_classes`) and over images or the batch
    (``per_image``, :meth:`SegLoss.reduce_region_losses`). Subclasses set ``smooth``, ``per_image`` and
    ``exponent`` and implement :meth:`class_losses`."""

    smooth: float = 1.0
    per_image: bool = False
    exponent: float = 1.0

    def class_losses(self, intersection: torch.Tensor, prob_mass: torch.Tensor,
                     label_area: torch.Tensor) -> torch.Tensor:
        """G x K losses from the G x K sums of :func:`region_sums`."""
        raise NotImplementedError

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        class_weight = self.checked_class_weight(logits.shape[1])
        valid = labels != self.ignore_index
        if not bool(valid.any()):
            return zero_loss(logits)
        losses = self.class_losses(*region_sums(logits, labels, valid, self.per_image, self.exponent))
        if class_weight is not None:
            losses = losses * class_weight
        losses = scored_classes(losses, logits.shape[1]).mean(dim=1)
        return self.loss_weight * self.reduce_region_losses(losses if self.per_image else losses[0], labels)
