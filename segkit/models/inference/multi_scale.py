"""Multi-scale + flip inference inside the model (DeepLabv3 section 4.1, DeepLabv3+ section 4: "MS + Flip").

``model.test_cfg.tta=dict(scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75), flip=True)`` (``tools/test.py --tta``)
averages the class probabilities of every scale of the image and of its mirror image. The views are made from the
already normalised batch, so the image and its label are loaded once and each view's probabilities are added into
one buffer at the input's size: no per-view copies of the image, the label or full-size logits are kept. It
combines with every other inference option (slide mode, autocast, fuse_bn, backends, the CRF, which then runs
once, on the merged probabilities, as DeepLab v2 applies it after fusing its multi-scale outputs).
"""
from typing import Callable, List, Sequence

import torch
import torch.nn.functional as F

from .predictions import from_probabilities, to_probabilities

Forward = Callable[[torch.Tensor, List[dict]], torch.Tensor]


def multi_scale_flip_logits(forward: Forward, inputs: torch.Tensor, batch_img_metas: List[dict], *,
                            scales: Sequence[float], flip: bool, align_corners: bool) -> torch.Tensor:
    """Logits of the mean class probabilities over ``scales`` x (image[, mirror]), at the size of ``inputs``.

    ``forward(x, metas)`` returns logits at the size of ``x``. Views are resized from ``inputs`` with bilinear
    interpolation (as ``Resize(scale_factor=s, keep_ratio=True)`` sizes them: ``round(side * s)``); a mirror
    view is flipped back before it is added. Views run one after another: on CPUs an image and its mirror as one
    batch of 2N was slower than two forwards (larger activations, more fresh pages).
    """
    h, w = inputs.shape[-2:]
    total = None
    views = 0
    for scale in scales:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = inputs if size == (h, w) else F.interpolate(inputs, size=size, mode='bilinear',
                                                        align_corners=align_corners)
        metas = [dict(meta, img_shape=size, batch_input_shape=size, pad_shape=size) for meta in batch_img_metas]
        for mirror in ((False, True) if flip else (False, )):
            logits = forward(x.flip(-1) if mirror else x, metas)
            if mirror:
                logits = logits.flip(-1)
            if logits.shape[-2:] != (h, w):
                logits = F.interpolate(logits, size=(h, w), mode='bilinear', align_corners=align_corners)
            probs = to_probabilities(logits)
            del logits
            total = probs if total is None else total.add_(probs)
            del probs
            views += 1
    return from_probabilities(total.div_(views))
