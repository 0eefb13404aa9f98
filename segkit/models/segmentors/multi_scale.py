"""Multi-scale + flip inference inside the model (DeepLabv3 section 4.1, DeepLabv3+ section 4: "MS + Flip").

``model.test_cfg.tta=dict(scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75), flip=True)`` averages the class
probabilities of every scale of the image and of its mirror image. Unlike a ``TestTimeAug`` data pipeline
(``SegTTAModel``), the views are made from the already normalised batch, so the image and its label are loaded
once and each view's probabilities are added into one buffer at the input's size: no per-view copies of the
image, the label or full-size logits are kept. It combines with every other ``test_cfg`` option (slide mode,
autocast, fuse_bn, backends, CRF).
"""
from typing import Callable, List, Mapping, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict

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


def enable_config_tta(cfg, config_path: str) -> None:
    """Set ``cfg.model.test_cfg.tta`` to the config's ``tta_scales`` with flips (for --tta and init_model(tta=True))."""
    if 'tta_scales' not in cfg:
        raise KeyError(f'{config_path} has no tta_scales for multi-scale + flip testing '
                       '(see configs/_base_/datasets/ms_flip_tta.py)')
    test_cfg = cfg.model.setdefault('test_cfg', ConfigDict(mode='whole'))
    test_cfg['tta'] = ConfigDict(scales=list(cfg.tta_scales), flip=True)


def multi_scale_flip_logits(forward: Forward, inputs: torch.Tensor, batch_img_metas: List[dict], *,
                            scales: Sequence[float], flip: bool, align_corners: bool) -> torch.Tensor:
    """Log of the mean softmax over ``scales`` x (image[, mirror]), at the size of ``inputs``.

    ``forward(x, metas)`` returns logits at the size of ``x``. Views are resized from ``inputs`` with bilinear
    interpolation (as ``Resize(scale_factor=s, keep_ratio=True)`` sizes them: ``round(side * s)``); a mirror
    view is flipped back before it is added. Views run one after another: on CPUs an image and its mirror as one
    batch of 2N was slower than two forwards (larger activations, more fresh pages; measured with
    ``tools/analysis_tools/benchmark_tta.py``).
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
            probs = logits.float().softmax(dim=1)
            del logits
            total = probs if total is None else total.add_(probs)
            del probs
            views += 1
    return total.div_(views).clamp_min_(1e-12).log_()
