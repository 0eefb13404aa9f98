"""Run a post-processor (``test_cfg.crf``) on predictions at the original image size.

The CRF's appearance kernel needs the original RGB image. It is taken from the batch the segmentor was given:
the network input of each sample with the padding removed, the mean/std normalisation undone, a test-pipeline
flip undone and, where the pipeline resized the image, resized back to ``ori_shape`` (bilinear). Without a
resize in the test pipeline this is the loaded image exactly; nothing is read from disk inside ``predict``. The
channel order does not matter to the CRF (one colour standard deviation for all three channels).
"""
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from segkit.structures import SegDataSample
from .predictions import from_probabilities, set_predictions, to_probabilities


def source_image(meta: dict, network_input: torch.Tensor,
                 data_preprocessor: Optional[torch.nn.Module] = None) -> np.ndarray:
    """The (H, W, 3) uint8 image at ``meta['ori_shape']`` recovered from one sample's network input."""
    ori_shape = tuple(meta['ori_shape'][:2])
    left, right, top, bottom = meta.get('padding_size', None) or (0, 0, 0, 0)
    h, w = network_input.shape[-2:]
    image = network_input[:, top:h - bottom, left:w - right].float()
    if data_preprocessor is not None and hasattr(data_preprocessor, 'mean'):
        image = image * data_preprocessor.std + data_preprocessor.mean
    if meta.get('flip', False):
        image = image.flip(2 if meta.get('flip_direction', 'horizontal') == 'horizontal' else 1)
    if tuple(image.shape[-2:]) != ori_shape:
        image = F.interpolate(image[None], size=ori_shape, mode='bilinear', align_corners=False)[0]
    return image.round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def refine_predictions(postprocessor, data_samples: List[SegDataSample], inputs: torch.Tensor,
                       data_preprocessor: Optional[torch.nn.Module] = None,
                       threshold: float = 0.5) -> List[SegDataSample]:
    """Replace each sample's ``seg_logits`` and ``pred_sem_seg`` with the post-processed ones.

    A one-class sigmoid output is refined as the two classes background / foreground and stored back as one
    logit, so its predictions keep their form.
    """
    for sample, network_input in zip(data_samples, inputs):
        image = source_image(sample.metainfo, network_input, data_preprocessor)
        probs = to_probabilities(sample.seg_logits.data, dim=0)
        binary = probs.shape[0] == 1
        if binary:
            probs = torch.cat([1 - probs, probs])
        refined = postprocessor(probs, image)
        if binary:
            refined = refined[1:]
        set_predictions(sample, from_probabilities(refined, dim=0), threshold)
    return data_samples
