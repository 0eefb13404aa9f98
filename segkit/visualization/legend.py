"""Labels on drawn results: a legend of the classes shown and titles over side-by-side panels."""
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['add_legend', 'add_titles', 'legend_entries']

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def _text_scale(height: int) -> float:
    """Font scale growing with the image: legible on a 96 px thumbnail and on a 1024 px Cityscapes frame."""
    return float(np.clip(height / 720, 0.4, 1.2))


def legend_entries(label_maps: Iterable, classes: Optional[Sequence[str]], palette: Sequence[Sequence[int]], *,
                   ignore_index: int = 255, with_share: bool = False) -> List[Tuple[str, Tuple[int, int, int]]]:
    """``(text, RGB colour)`` for each class present in any of ``label_maps`` (arrays or tensors), by class id.

    ``text`` is the class name (its id where ``classes`` has none); ``with_share`` appends the class's share of
    the labelled pixels of the first map, e.g. ``'road 41.3%'``.
    """
    maps = [np.asarray(m.detach().cpu() if hasattr(m, 'detach') else m).reshape(-1) for m in label_maps]
    if not maps:
        return []
    valid = [m[(m >= 0) & (m != ignore_index)].astype(np.int64) for m in maps]
    present = sorted(set(np.unique(np.concatenate(valid)).tolist()))
    counts = np.bincount(valid[0], minlength=max(present, default=0) + 1)
    total = max(int(counts.sum()), 1)
    entries = []
    for class_id in present:
        name = classes[class_id] if classes is not None and class_id < len(classes) else str(class_id)
        if with_share:
            name = f'{name} {100 * counts[class_id] / total:.1f}%'
        color = tuple(int(c) for c in palette[class_id]) if class_id < len(palette) else (128, 128, 128)
        entries.append((name, color))
    return entries


def add_legend(canvas_bgr: np.ndarray, entries: Sequence[Tuple[str, Sequence[int]]]) -> np.ndarray:
    """A white panel right of ``canvas_bgr`` with one colour swatch (RGB ``entries`` colour) and name per row.

    The canvas is extended downwards with white when the legend is taller than it. Returns a new BGR array.
    """
    if not entries:
        return canvas_bgr.copy()
    h, w = canvas_bgr.shape[:2]
    scale = _text_scale(h)
    thickness = max(1, round(scale * 1.5))
    (_, text_h), _ = cv2.getTextSize('Ag', FONT, scale, thickness)
    row = int(text_h * 2.0)
    pad = max(4, row // 3)
    swatch = row - pad // 2
    text_w = max(cv2.getTextSize(name, FONT, scale, thickness)[0][0] for name, _ in entries)
    panel_w = pad + swatch + pad + text_w + pad
    out_h = max(h, pad + row * len(entries) + pad)
    out = np.full((out_h, w + panel_w, 3), 255, dtype=np.uint8)
    out[:h, :w] = canvas_bgr
    for i, (name, rgb) in enumerate(entries):
        y = pad + i * row
        x = w + pad
        cv2.rectangle(out, (x, y), (x + swatch - 1, y + swatch - 1), tuple(int(c) for c in rgb[::-1]), -1)
        cv2.rectangle(out, (x, y), (x + swatch - 1, y + swatch - 1), BLACK, 1)
        baseline_y = y + (swatch + text_h) // 2
        cv2.putText(out, name, (x + swatch + pad, baseline_y), FONT, scale, BLACK, thickness, cv2.LINE_AA)
    return out


def add_titles(canvas_bgr: np.ndarray, titles: Sequence[str]) -> np.ndarray:
    """A white strip above ``canvas_bgr`` with ``titles`` centred over its equal-width panels."""
    h, w = canvas_bgr.shape[:2]
    scale = _text_scale(h)
    thickness = max(1, round(scale * 1.5))
    (_, text_h), _ = cv2.getTextSize('Ag', FONT, scale, thickness)
    strip = int(text_h * 2.2)
    out = np.full((h + strip, w, 3), 255, dtype=np.uint8)
    out[strip:] = canvas_bgr
    panel_w = w / max(len(titles), 1)
    for i, title in enumerate(titles):
        tw = cv2.getTextSize(title, FONT, scale, thickness)[0][0]
        x = int(i * panel_w + max((panel_w - tw) / 2, 2))
        cv2.putText(out, title, (x, (strip + text_h) // 2), FONT, scale, BLACK, thickness, cv2.LINE_AA)
    return out
