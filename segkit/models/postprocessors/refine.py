"""Apply a post-processor (``test_cfg.crf``) to predictions at the original image size.

The CRF's appearance kernel needs the original RGB image, which the segmentor no longer has: its input is
normalised, padded, maybe resized or flipped. The robust source is the file itself: when a sample's metainfo has
an ``img_path`` the image is read again (exact original pixels, whatever the test pipeline did). In-memory images
(``inference_model`` on arrays: ``img_path=None``) are recovered from the network input instead: padding removed,
mean/std normalisation undone, a flip undone and, if the pipeline resized, resized back to ``ori_shape``. The
channel order does not matter to the CRF (one colour standard deviation for all three channels).
"""
from typing import List, Optional

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from segkit.structures import SegDataSample


def source_image(meta: dict, network_input: Optional[torch.Tensor] = None,
                 data_preprocessor: Optional[torch.nn.Module] = None) -> np.ndarray:
    """The (H, W, 3) uint8 image at ``meta['ori_shape']`` that a prediction at the original size belongs to."""
    ori_shape = tuple(meta['ori_shape'][:2])
    path = meta.get('img_path')
    if path:
        image = mmcv.imread(path, channel_order='rgb')
        if image is None:
            raise FileNotFoundError(f'test_cfg.crf: cannot read the original image {path}')
        if image.shape[:2] != ori_shape:
            image = mmcv.imresize(image, ori_shape[::-1])
        return image
    if network_input is None:
        raise ValueError('test_cfg.crf needs the original image: the sample has no img_path and no network input '
                         '(test-time augmentation reads images from their files)')
    left, right, top, bottom = meta.get('padding_size', [0, 0, 0, 0])
    h, w = network_input.shape[-2:]
    image = network_input[:, top:h - bottom, left:w - right].float()
    if data_preprocessor is not None and hasattr(data_preprocessor, 'mean'):
        image = image * data_preprocessor.std + data_preprocessor.mean
    if meta.get('flip', False):
        image = image.flip(2 if meta.get('flip_direction', 'horizontal') == 'horizontal' else 1)
    if tuple(image.shape[-2:]) != ori_shape:
        image = F.interpolate(image[None], size=ori_shape, mode='bilinear', align_corners=False)[0]
    return image.round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def refine_predictions(postprocessor, data_samples: List[SegDataSample], inputs: Optional[torch.Tensor] = None,
                       data_preprocessor: Optional[torch.nn.Module] = None) -> List[SegDataSample]:
    """Replace each sample's ``seg_logits`` (by log-probabilities) and ``pred_sem_seg`` with the refined ones."""
    for i, sample in enumerate(data_samples):
        image = source_image(sample.metainfo, None if inputs is None else inputs[i], data_preprocessor)
        probs = postprocessor(sample.seg_logits.data.softmax(0), image)
        sample.seg_logits = PixelData(data=probs.clamp_min(1e-12).log())
        sample.pred_sem_seg = PixelData(data=probs.argmax(0, keepdim=True))
    return data_samples
