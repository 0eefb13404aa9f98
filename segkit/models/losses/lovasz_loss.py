"""Lovasz-softmax loss (Berman et al., "The Lovasz-Softmax loss", CVPR 2018, eq. 12): a convex surrogate of the
per-class Jaccard loss 1 - IoU, optimised directly on softmax probabilities."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F

from segkit.registry import LOSSES
from .base import SegLoss, zero_loss
from .probabilities import class_probabilities


def lovasz_gradient(sorted_labels: torch.Tensor) -> torch.Tensor:
    """Increments of the Jaccard loss as the pixels, sorted by decreasing error, join the mispredicted set one by
    one (paper eq. 8-9, the Lovasz extension's weights); ``sorted_labels`` is P x C of 0/1, one column per class."""
    label_area = sorted_labels.sum(dim=0)
    intersection = label_area - sorted_labels.cumsum(dim=0)
    union = label_area + (1 - sorted_labels).cumsum(dim=0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]], dim=0)


@LOSSES.register_module()
class LovaszLoss(SegLoss):
    """Lovasz-softmax: for each class, the errors ``|1[y = c] - p_c|`` sorted in decreasing order, dotted with
    :func:`lovasz_gradient`; averaged over classes. A one-channel sigmoid head is read as the two classes
    (1 - p, p) (see :mod:`.probabilities`).

    Args:
        per_image: one loss per image, averaged over images (the paper's choice on VOC), rather than one loss over
            all the batch's pixels.
        classes: ``'present'`` averages over the classes that occur in the labels, ``'all'`` over every class, or a
            list of class indices.
        class_weight: factor on each class's term (mean over classes of ``w_c * loss_c``).
        avg_non_ignore: False scales the loss by the labelled share of pixels (see :class:`SegLoss`).
    """

    def __init__(self, *, per_image: bool = False, classes: Union[str, Sequence[int]] = 'present',
                 class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0, ignore_index: int = 255,
                 avg_non_ignore: bool = True, loss_name: str = 'loss_lovasz'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)
        if isinstance(classes, str) and classes not in ('present', 'all'):
            raise ValueError(f"LovaszLoss: classes must be 'present', 'all' or a list of class indices, "
                             f'got {classes!r}')
        self.per_image = per_image
        self.classes = classes if isinstance(classes, str) else tuple(int(c) for c in classes)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.checked_class_weight(logits.shape[1])
        valid = labels != self.ignore_index
        if not bool(valid.any()):
            return zero_loss(logits)
        probs = class_probabilities(logits).permute(0, 2, 3, 1)
        if self.per_image:
            losses = torch.stack([self.flat_loss(p[v], y[v]) if v.any() else probs.new_zeros(())
                                  for p, y, v in zip(probs, labels, valid)])
        else:
            losses = self.flat_loss(probs[valid], labels[valid])
        return self.loss_weight * self.reduce_region_losses(losses, labels)

    def flat_loss(self, probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss of P labelled pixels: ``probs`` P x C, ``labels`` P."""
        num_classes = probs.shape[1]
        one_hot = F.one_hot(labels, num_classes).to(probs.dtype)
        errors, order = (one_hot - probs).abs().sort(dim=0, descending=True)
        per_class = (errors * lovasz_gradient(one_hot.gather(0, order))).sum(dim=0)
        if self.class_weight is not None:
            per_class = per_class * self.class_weight
        if self.classes == 'present':
            chosen = one_hot.sum(dim=0) > 0
        elif self.classes == 'all':
            chosen = torch.ones(num_classes, dtype=torch.bool, device=probs.device)
        else:
            chosen = torch.zeros(num_classes, dtype=torch.bool, device=probs.device)
            chosen[list(self.classes)] = True
        return per_class[chosen].mean()
