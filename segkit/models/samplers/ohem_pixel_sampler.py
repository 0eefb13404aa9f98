"""Online hard example mining over pixels (Shrivastava et al., CVPR 2016, applied per pixel as in PSPNet/ICNet and
MMSegmentation's ``OHEMPixelSampler``)."""
from typing import Optional

import torch
from mmengine.logging import print_log

from segkit.models.losses.probabilities import class_probabilities
from segkit.registry import PIXEL_SAMPLERS


@PIXEL_SAMPLERS.register_module()
class OHEMPixelSampler:
    """Keep the hard pixels of a batch: a decode head with ``sampler=dict(type='OHEMPixelSampler', ...)`` turns the
    labels of the other pixels into ``ignore_index`` before its losses, so every loss averages over the kept ones.

    Hardness is the probability of the true class (low = hard; the same order as the cross-entropy): the softmax,
    or for a one-channel sigmoid head p for the foreground and 1 - p for the background.

    Args:
        thresh: keep the pixels whose true-class probability is below ``thresh``, but never fewer than ``min_kept``
            per image (then the ``min_kept * batch`` hardest). None: keep exactly the ``min_kept * batch`` hardest.
        min_kept: pixels kept per image at least (MMSegmentation's default is 100000, i.e. most of a 512x512 crop).
        ignore_index: label of unlabelled pixels, never kept (the head passes its own).
    """

    def __init__(self, *, thresh: Optional[float] = None, min_kept: int = 100000, ignore_index: int = 255):
        if thresh is not None and not 0 < thresh <= 1:
            raise ValueError(f'OHEMPixelSampler: thresh is a probability in (0, 1], got {thresh}')
        if min_kept < 0:
            raise ValueError(f'OHEMPixelSampler: min_kept must be >= 0, got {min_kept}')
        self.thresh = thresh
        self.min_kept = min_kept
        self.ignore_index = ignore_index
        self._warned_noop = False

    @torch.no_grad()
    def sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Boolean N x H x W mask of the kept pixels (``logits`` N x C x H x W at the labels' size)."""
        valid = labels != self.ignore_index
        true_prob = class_probabilities(logits).gather(1, labels.masked_fill(~valid, 0)[:, None])[:, 0]
        if self.min_kept >= labels[0].numel() and not self._warned_noop and not torch.compiler.is_compiling():
            self._warned_noop = True
            print_log(f'OHEMPixelSampler: min_kept={self.min_kept} per image is at least the {labels[0].numel()} '
                      f'pixels of a {labels.shape[-2]}x{labels.shape[-1]} crop, so every pixel is kept and the '
                      f'sampler does nothing; set min_kept to a share of the crop (e.g. '
                      f'{labels[0].numel() // 4})', logger='current', level=30)
        if torch.compiler.is_compiling():
            kept = self._hardest_traceable(true_prob, valid, labels.shape[0])
        else:
            kept = self._hardest(true_prob, valid, labels.shape[0])
        if self.thresh is not None:
            kept |= valid & (true_prob < self.thresh)
        return kept

    def _hardest(self, true_prob: torch.Tensor, valid: torch.Tensor, batch: int) -> torch.Tensor:
        """The ``min_kept * batch`` labelled pixels of lowest true-class probability (all when fewer)."""
        valid_prob = true_prob[valid]
        num_kept = min(self.min_kept * batch, valid_prob.numel())
        if num_kept == valid_prob.numel():
            return valid
        if num_kept == 0:
            return torch.zeros_like(valid)
        return valid & (true_prob <= valid_prob.kthvalue(num_kept).values)

    def _hardest_traceable(self, true_prob: torch.Tensor, valid: torch.Tensor, batch: int) -> torch.Tensor:
        """:meth:`_hardest` without boolean indexing (data-dependent shapes) or Python numbers from tensors, so
        a compiled training step traces it whole: the same pixels, through a sort (unlabelled pixels sort last at
        probability 2) instead of ``kthvalue`` (which needs k as a Python int); slower in eager mode."""
        num_kept = valid.sum().clamp(max=self.min_kept * batch)
        ordered = true_prob.float().masked_fill(~valid, 2.0).flatten().sort().values
        kth_easiest = ordered.gather(0, (num_kept - 1).clamp(min=0).view(1))
        return valid & (true_prob.float() <= kth_easiest) & (num_kept > 0)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(thresh={self.thresh}, min_kept={self.min_kept})'
