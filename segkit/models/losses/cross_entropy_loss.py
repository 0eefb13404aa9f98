"""Pixel-wise softmax cross-entropy, the loss of every DeepLab paper."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.registry import LOSSES


@LOSSES.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy averaged over the pixels that are not ``ignore_index``.

    Args:
        class_weight: one weight per class; the average is then weighted (sum of w[y] * loss / sum of w[y]),
            as in ``torch.nn.functional.cross_entropy``.
        loss_weight: factor on the whole loss (e.g. 0.4 for an auxiliary head).
        ignore_index: label value that contributes neither loss nor to the average's denominator.
        loss_name: key under which the segmentor logs this loss; must start with ``loss_`` to be optimised.
    """

    def __init__(self, *, class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 ignore_index: int = 255, loss_name: str = 'loss_ce'):
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"CrossEntropyLoss: loss_name={loss_name!r} must start with 'loss_' "
                             '(mmengine only back-propagates keys named loss_*)')
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.loss_name = loss_name
        weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
        self.register_buffer('class_weight', weight, persistent=False)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.class_weight is not None and self.class_weight.numel() != logits.shape[1]:
            raise ValueError(f'CrossEntropyLoss: class_weight has {self.class_weight.numel()} entries but the '
                             f'head predicts {logits.shape[1]} classes')
        valid = labels != self.ignore_index
        if not bool(valid.any()):  # an all-ignore crop: zero loss that still reaches every logit
            return logits.sum() * 0.0
        loss = F.cross_entropy(logits, labels, weight=self.class_weight, ignore_index=self.ignore_index)
        return self.loss_weight * loss
