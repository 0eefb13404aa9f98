"""Multi-scale + flip inference inside the model (DeepLabv3 section 4.1, DeepLabv3+ section 4: "MS + Flip").

``model.test_cfg.tta=dict(scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75), flip=True)`` averages the class
probabilities of every scale of the image and of its mirror image. Unlike a ``TestTimeAug`` data pipeline
(``SegTTAModel``), the views are made from the already normalised batch, so the image and its label are loaded
once, an image and its mirror go through the network as one batch, and each view's probabilities are added
into one buffer at the input's size: no per-view copies of the image, the label or full-size logits are kept.
It combines with every other ``test_cfg`` option (slide mode, autocast, fuse_bn, backends, CRF).
"""
from typing import Callable, List, Mapping, Sequence

import torch
import torch.nn.functional as F

Forward = Callable[[torch.Tensor, List[dict]], torch.Tensor]


def check_tta_option(value: Mapping) -> dict:
    """``test_cfg.tta`` with its defaults, or a ValueError naming what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError(f'test_cfg.tta must be a dict like dict(scales=(0.5, 1.0, 1.5), flip=True), got {value!r}')
    unknown = set(value) - {'scales', 'flip'}
    if unknown:
        raise ValueError(f'test_cfg.tta: unknown keys {sorted(unknown)}; known: scales, flip')
    scales = tuple(float(s) for s in value.get('scales', (1.0, )))
    if not scales or min(scales) <= 0:
        raise ValueError(f'test_cfg.tta.scales must be positive scale factors, got {value.get("scales")!r}')
    return dict(scales=scales, flip=bool(value.get('flip', True)))


def multi_scale_flip_logits(forward: Forward, inputs: torch.Tensor, batch_img_metas: List[dict], *,
                            scales: Sequence[float], flip: bool, align_corners: bool) -> torch.Tensor:
    """Log of the mean softmax over ``scales`` x (image[, mirror]), at the size of ``inputs``.

    ``forward(x, metas)`` returns logits at the size of ``x``. Views are resized from ``inputs`` with bilinear
    interpolation (as ``Resize(scale_factor=s, keep_ratio=True)`` sizes them: ``round(side * s)``); a mirror
    view shares the forward pass of its image (batch ``2N``) and is flipped back before it is added.
    """
    n, _, h, w = inputs.shape
    total = None
    views = 0
    for scale in scales:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = inputs if size == (h, w) else F.interpolate(inputs, size=size, mode='bilinear',
                                                        align_corners=align_corners)
        metas = [dict(meta, img_shape=size, batch_input_shape=size, pad_shape=size) for meta in batch_img_metas]
        if flip:
            x = torch.cat([x, x.flip(-1)])
            metas = metas + metas
        logits = forward(x, metas)
        if logits.shape[-2:] != (h, w):
            logits = F.interpolate(logits, size=(h, w), mode='bilinear', align_corners=align_corners)
        probs = logits.float().softmax(dim=1)
        del logits
        if flip:
            probs = probs[:n].add_(probs[n:].flip(-1))
        if total is None:
            total = probs
        else:
            total.add_(probs)
        views += 2 if flip else 1
        del probs
    return total.div_(views).clamp_min_(1e-12).log_()
