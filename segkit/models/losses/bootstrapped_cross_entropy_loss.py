"""TF DeepLab's bootstrapped cross-entropy: the loss of the top-k% hardest pixels (``top_k_percent_pixels``,
``hard_example_mining_step`` of ``research/deeplab/utils/train_utils.py``; also used by DeeperLab and
Panoptic-DeepLab)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from segkit.registry import LOSSES
from .base import SegLoss, zero_loss


@LOSSES.register_module()
class BootstrappedCrossEntropyLoss(SegLoss):
    """Cross-entropy averaged over the k pixels of the batch with the largest (class-weighted) loss.

    k is ``fraction * pixels in the batch`` (ignored pixels included, as in TF DeepLab), the fraction going
    linearly from 1 at iteration 0 to ``top_k_percent_pixels`` at ``hard_example_mining_step`` and staying there
    (with ``hard_example_mining_step=0`` it is ``top_k_percent_pixels`` from the start). The current iteration is
    the Runner's, read from mmengine's message hub (``RuntimeInfoHook`` sets it before every training step).
    The mean is over the labelled pixels among the k (TF DeepLab divides by the number of non-zero losses).

    Args:
        top_k_percent_pixels: the fraction in (0, 1] kept at the end of the annealing.
        hard_example_mining_step: iterations over which the fraction anneals from 1.
        class_weight, loss_weight, ignore_index, loss_name: as :class:`CrossEntropyLoss`.
    """

    def __init__(self, *, top_k_percent_pixels: float = 1.0, hard_example_mining_step: int = 0,
                 class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0, ignore_index: int = 255,
                 loss_name: str = 'loss_ce'):
        super().__init__(class_weight=class_weight, loss_weight=loss_weight, ignore_index=ignore_index,
                         avg_non_ignore=True, loss_name=loss_name)
        if not 0 < top_k_percent_pixels <= 1:
            raise ValueError(f'BootstrappedCrossEntropyLoss: top_k_percent_pixels must be in (0, 1], '
                             f'got {top_k_percent_pixels}')
        if hard_example_mining_step < 0:
            raise ValueError(f'BootstrappedCrossEntropyLoss: hard_example_mining_step must be >= 0, '
                             f'got {hard_example_mining_step}')
        self.top_k_percent_pixels = top_k_percent_pixels
        self.hard_example_mining_step = hard_example_mining_step

    def check_output_channels(self, num_channels: int, owner: str) -> None:
        if num_channels == 1:
            raise ValueError(f'{owner}: BootstrappedCrossEntropyLoss is a softmax loss and num_classes=1 is a sigmoid '
                             "head: use dict(type='CrossEntropyLoss', use_sigmoid=True) with "
                             "sampler=dict(type='OHEMPixelSampler', ...) for hard pixels, or num_classes=2")
        super().check_output_channels(num_channels, owner)

    def kept_fraction(self, iteration: int) -> float:
        if self.hard_example_mining_step == 0:
            return self.top_k_percent_pixels
        ratio = min(1.0, iteration / self.hard_example_mining_step)
        return ratio * self.top_k_percent_pixels + (1 - ratio)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        class_weight = self.checked_class_weight(logits.shape[1])
        valid = labels != self.ignore_index
        iteration = MessageHub.get_current_instance().get_info('iter', 0)
        k = int(self.kept_fraction(iteration) * labels.numel())
        if k == 0 or not bool(valid.any()):
            return zero_loss(logits)
        pixel_losses = F.cross_entropy(logits.float(), labels, weight=class_weight, ignore_index=self.ignore_index,
                                       reduction='none').flatten()
        top_losses, top_index = pixel_losses.topk(k, sorted=False)
        kept_labelled = valid.flatten()[top_index].sum().clamp(min=1)
        return self.loss_weight * top_losses.sum() / kept_labelled
