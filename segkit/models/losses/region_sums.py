"""Per-class sums over the labelled pixels that the region losses (Dice, Tversky) are made of."""
from typing import Tuple

import torch

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
