"""What every segkit loss shares: its arguments, their checks, and the per-pixel reduction."""
from typing import Optional, Sequence

import torch
import torch.nn as nn


class SegLoss(nn.Module):
    """Base of the registered losses: ``class_weight``, ``loss_weight``, ``ignore_index``, ``avg_non_ignore`` and
    ``loss_name``, checked once here.

    ``avg_non_ignore`` says what a loss is averaged over. True: over the pixels that are not ``ignore_index``.
    False (MMSegmentation's default): over every pixel of the batch, ignored ones counting as zero, so a crop that
    is mostly ignored pulls less; a region loss (Dice, Lovasz) is then scaled by the labelled fraction of pixels.
    """

    def __init__(self, *, class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 ignore_index: int = 255, avg_non_ignore: bool = True, loss_name: str):
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"{type(self).__name__}: loss_name={loss_name!r} must start with 'loss_' "
                             '(mmengine only back-propagates keys named loss_*)')
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.avg_non_ignore = avg_non_ignore
        self.loss_name = loss_name
        weight = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
        self.register_buffer('class_weight', weight, persistent=False)

    def check_output_channels(self, num_channels: int, owner: str) -> None:
        """Raise when this loss cannot train a head of ``num_channels`` logit channels (``owner`` names the head's
        config key); one channel is a sigmoid head (binary: labels 0 and 1), which the probability-based losses
        read as the two classes (1 - p, p)."""
        if self.class_weight is not None and self.class_weight.numel() != max(num_channels, 2):
            raise ValueError(f'{owner}: {type(self).__name__}.class_weight has {self.class_weight.numel()} entries '
                             f'but the head labels {max(num_channels, 2)} classes; give one weight per class')

    def checked_class_weight(self, num_channels: int) -> Optional[torch.Tensor]:
        """``class_weight`` after checking it has one entry per labelled class (2 for a one-channel head)."""
        num_classes = max(num_channels, 2)
        if self.class_weight is not None and self.class_weight.numel() != num_classes:
            raise ValueError(f'{type(self).__name__}: class_weight has {self.class_weight.numel()} entries but the '
                             f'head predicts {num_classes} classes')
        return self.class_weight

    def reduce_pixel_losses(self, pixel_losses: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Class-weighted mean of per-pixel losses (ignored pixels hold any value; they are masked here).

        ``avg_non_ignore=True``: sum(w[y] * loss) / sum(w[y]) over labelled pixels (``F.cross_entropy``'s weighted
        mean); False: sum(w[y] * loss) / number of pixels (MMSegmentation's mean).
        """
        valid = labels != self.ignore_index
        weights = valid.to(pixel_losses.dtype)
        if self.class_weight is not None:
            weights = weights * self.class_weight[labels.masked_fill(~valid, 0)]
        total = (pixel_losses * weights).sum()
        count = weights.sum() if self.avg_non_ignore else pixel_losses.new_tensor(float(labels.numel()))
        return total / count.clamp(min=torch.finfo(total.dtype).tiny)

    def reduce_region_losses(self, losses: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean of a region loss (Dice, Lovasz) given per image (shape N) or for the whole batch (a scalar).

        ``avg_non_ignore=True``: the mean over the images that have labelled pixels. False: each image's (or the
        batch's) loss is weighed by its labelled share of pixels, and all images count.
        """
        labelled = (labels != self.ignore_index).flatten(1).float().mean(dim=1)
        if losses.dim() == 0:
            return losses if self.avg_non_ignore else losses * labelled.mean()
        if self.avg_non_ignore:
            return losses[labelled > 0].mean()
        return (losses * labelled).mean()


def zero_loss(logits: torch.Tensor) -> torch.Tensor:
    """A zero that still reaches every logit (all-ignored crops), so DDP sees a gradient for each parameter."""
    return logits.sum() * 0.0
