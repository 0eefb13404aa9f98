"""Pixel-wise softmax cross-entropy, the loss of every DeepLab paper."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from segkit.registry import LOSSES
from .base import SegLoss, zero_loss


@LOSSES.register_module()
class CrossEntropyLoss(SegLoss):
    """Softmax cross-entropy over the pixels that are not ``ignore_index``.

    Args:
        class_weight: one weight per class; the average is then weighted (sum of w[y] * loss / sum of w[y]),
            as in ``torch.nn.functional.cross_entropy``.
        loss_weight: factor on the whole loss (e.g. 0.4 for an auxiliary head).
        ignore_index: label value that contributes neither loss nor to the average's denominator.
        avg_non_ignore: True averages over labelled pixels (as above); False divides the weighted sum by every
            pixel of the batch, ignored ones included (MMSegmentation's default).
        loss_name: key under which the segmentor logs this loss; must start with ``loss_`` to be optimised.
    """

    def __init__(self, *, class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 ignore_index: int = 255, avg_non_ignore: bool = True, loss_name: str = 'loss_ce'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        class_weight = self.checked_class_weight(logits.shape[1])
        if class_weight is not None:
            class_weight = class_weight.to(logits.dtype)
        if not bool((labels != self.ignore_index).any()):
            return zero_loss(logits)
        if self.avg_non_ignore:
            loss = F.cross_entropy(logits, labels, weight=class_weight, ignore_index=self.ignore_index)
        else:
            loss = F.cross_entropy(logits, labels, weight=class_weight, ignore_index=self.ignore_index,
                                   reduction='sum') / labels.numel()
        return self.loss_weight * loss
