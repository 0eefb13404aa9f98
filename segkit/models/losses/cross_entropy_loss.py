"""Pixel-wise cross-entropy: softmax over the classes (every DeepLab paper), or binary cross-entropy on a
one-channel sigmoid head (``use_sigmoid=True``, ``num_classes=1``)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from segkit.registry import LOSSES
from .base import SegLoss


@LOSSES.register_module()
class CrossEntropyLoss(SegLoss):
    """Softmax cross-entropy over the pixels that are not ``ignore_index``; binary cross-entropy with
    ``use_sigmoid=True``.

    Args:
        use_sigmoid: binary cross-entropy on the sigmoid of a one-channel head (``num_classes=1``; labels 0 =
            background, 1 = foreground), as MMSegmentation's ``use_sigmoid=True``. False: softmax over C >= 2
            channels. A one-channel head without it, or it on a head of C >= 2 channels, is an error.
        pos_weight: with ``use_sigmoid``, the factor on the foreground term, ``-(pos_weight * y * log p + (1 - y)
            * log(1 - p))`` (``torch.nn.BCEWithLogitsLoss``'s ``pos_weight``; the mean's denominator is unchanged,
            unlike ``class_weight=[1, w]``). E.g. background pixels / foreground pixels for rare foregrounds.
        class_weight: one weight per class (2 for ``use_sigmoid``); the average is then weighted (sum of w[y] *
            loss / sum of w[y]), as in ``torch.nn.functional.cross_entropy``.
        loss_weight: factor on the whole loss (e.g. 0.4 for an auxiliary head).
        ignore_index: label value that contributes neither loss nor to the average's denominator.
        avg_non_ignore: True averages over labelled pixels (as above); False divides the weighted sum by every
            pixel of the batch, ignored ones included (MMSegmentation's default).
        loss_name: key under which the segmentor logs this loss; must start with ``loss_`` to be optimised.
    """

    def __init__(self, *, use_sigmoid: bool = False, pos_weight: Optional[float] = None,
                 class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 ignore_index: int = 255, avg_non_ignore: bool = True, loss_name: str = 'loss_ce'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=avg_non_ignore, loss_name=loss_name)
        if pos_weight is not None and not use_sigmoid:
            raise ValueError('CrossEntropyLoss: pos_weight weighs the foreground of binary cross-entropy; it needs '
                             'use_sigmoid=True (softmax cross-entropy takes class_weight)')
        if pos_weight is not None and not pos_weight > 0:
            raise ValueError(f'CrossEntropyLoss: pos_weight must be > 0, got {pos_weight}')
        self.use_sigmoid = bool(use_sigmoid)
        self.pos_weight = None if pos_weight is None else float(pos_weight)

    def check_output_channels(self, num_channels: int, owner: str) -> None:
        if self.use_sigmoid and num_channels != 1:
            raise ValueError(f'{owner}: CrossEntropyLoss(use_sigmoid=True) is binary cross-entropy on one sigmoid '
                             f'channel, but the head has num_classes={num_channels}: set num_classes=1 (a 2-class '
                             'dataset: background 0, foreground 1), or drop use_sigmoid for softmax')
        if not self.use_sigmoid and num_channels == 1:
            raise ValueError(f'{owner}: num_classes=1 is a one-channel sigmoid head, which softmax cross-entropy '
                             "cannot train (its loss is always 0): set loss_decode=dict(type='CrossEntropyLoss', "
                             'use_sigmoid=True), or num_classes=2 for a softmax over background and foreground')
        super().check_output_channels(num_channels, owner)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Branch-free (no ``bool(tensor)``): a compiled training step traces it whole and a GPU is not synced;
        a batch whose pixels are all ignored gives 0 (still connected to every logit, for DDP)."""
        class_weight = self.checked_class_weight(logits.shape[1])
        if self.use_sigmoid:
            return self.loss_weight * self._binary(logits, labels)
        if class_weight is not None:
            class_weight = class_weight.to(logits.dtype)
        total = F.cross_entropy(logits, labels, weight=class_weight, ignore_index=self.ignore_index,
                                reduction='sum')
        if not self.avg_non_ignore:
            return self.loss_weight * total / labels.numel()
        valid = labels != self.ignore_index
        if class_weight is None:  # F.cross_entropy's mean: the sum over the labelled pixels' total weight
            count = valid.sum().to(total.dtype)
        else:
            count = (class_weight[labels.masked_fill(~valid, 0)] * valid).sum().to(total.dtype)
        return self.loss_weight * total / count.clamp(min=torch.finfo(total.dtype).tiny)

    def _binary(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if logits.shape[1] != 1:
            self.check_output_channels(logits.shape[1], 'CrossEntropyLoss')
        valid = labels != self.ignore_index
        if bool((valid & (labels != 0) & (labels != 1)).any()):
            bad = sorted(set(labels[valid & (labels != 0) & (labels != 1)].unique().tolist()))
            raise ValueError(f'CrossEntropyLoss(use_sigmoid=True): labels must be 0 (background), 1 (foreground) or '
                             f'ignore_index={self.ignore_index}, got {bad[:10]}')
        pos_weight = None if self.pos_weight is None else logits.new_tensor(self.pos_weight, dtype=torch.float32)
        pixel_losses = F.binary_cross_entropy_with_logits(logits[:, 0].float(), (labels == 1).float(),
                                                          pos_weight=pos_weight, reduction='none')
        return self.reduce_pixel_losses(pixel_losses, labels)
