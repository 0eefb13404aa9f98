"""Draw label maps over images: a colour blend, and image | ground truth | prediction panels."""
from typing import Optional, Sequence

import cv2
import numpy as np

from .display import display_image

__all__ = ['draw_overlay', 'draw_side_by_side']


def _as_label_map(label_map, shape: Sequence[int]) -> np.ndarray:
    """A HxW integer array of the image's size from a HxW / 1xHxW array or tensor."""
    if hasattr(label_map, 'detach'):  # a torch tensor, possibly on a GPU
        label_map = label_map.detach().cpu().numpy()
    label_map = np.asarray(label_map)
    if label_map.ndim == 3 and label_map.shape[0] == 1:
        label_map = label_map[0]
    if label_map.ndim != 2:
        raise ValueError(f'label map must be HxW or 1xHxW, got shape {label_map.shape}')
    label_map = label_map.astype(np.int64, copy=False)
    if label_map.shape != tuple(shape):
        # e.g. a ground truth loaded after Resize; nearest keeps class ids intact
        label_map = cv2.resize(label_map.astype(np.int32), (shape[1], shape[0]),
                               interpolation=cv2.INTER_NEAREST).astype(np.int64)
    return label_map


def draw_overlay(image_bgr: np.ndarray, label_map, palette: Sequence[Sequence[int]], *, alpha: float = 0.5,
                 ignore_index: int = 255, display_bands: Optional[Sequence[int]] = None) -> np.ndarray:
    """Blend each labelled pixel with its class colour: ``(1 - alpha) * image + alpha * colour``.

    ``palette`` is RGB (as dataset metainfo stores it) and is flipped for the BGR image. Pixels equal to
    ``ignore_index`` or whose class has no colour keep the image's value. Returns a new HxWx3 uint8 BGR array;
    a label map of another size is resized (nearest) to the image. A multi-band or high-bit-depth image is drawn
    through three of its bands (``display_bands``, see :func:`~segkit.visualization.display.display_image`).
    """
    image = display_image(image_bgr, display_bands)
    labels = _as_label_map(label_map, image.shape[:2])
    colors_bgr = np.asarray(palette, dtype=np.float32).reshape(-1, 3)[:, ::-1]
    drawn = (labels >= 0) & (labels < len(colors_bgr)) & (labels != ignore_index)
    out = image.copy()
    blended = (1 - alpha) * image[drawn].astype(np.float32) + alpha * colors_bgr[labels[drawn]]
    out[drawn] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out


def draw_side_by_side(image: np.ndarray, pred, gt=None, *, palette: Sequence[Sequence[int]], alpha: float = 0.5,
                      ignore_index: int = 255, display_bands: Optional[Sequence[int]] = None) -> np.ndarray:
    """Panels left to right: the image, the ground-truth overlay (when ``gt`` is given), the prediction overlay.

    All panels have the image's size, so the result is H x (2 or 3)W x 3 uint8 BGR.
    """
    image = display_image(image, display_bands)
    panels = [draw_overlay(image, pred, palette, alpha=alpha, ignore_index=ignore_index)]
    if gt is not None:
        panels.insert(0, draw_overlay(image, gt, palette, alpha=alpha, ignore_index=ignore_index))
    return np.concatenate([image] + panels, axis=1)
