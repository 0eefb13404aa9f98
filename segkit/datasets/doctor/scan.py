"""One image / mask pair as the config reads it: image size, bands, dtype and band moments; the mask's size and
its raw values (or colours) with their pixel counts. Runs in worker processes."""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np

from segkit.datasets.band_stats import BandMoments
from segkit.datasets.colour_masks import colour_codes, mask_rgb
from segkit.registry import TRANSFORMS

#: the transforms built in this process, by their config (workers build each once)
_BUILT: Dict[str, object] = {}


@dataclass
class SampleScan:
    """What one pair holds; ``error`` says why a file could not be read (the rest is then empty)."""

    img_path: str
    seg_map_path: Optional[str]
    image_hw: Optional[Tuple[int, int]] = None
    bands: int = 0
    dtype: str = ''
    value_max: float = 0.0
    moments: Optional[BandMoments] = None
    mask_hw: Optional[Tuple[int, int]] = None
    mask_kind: str = ''  # 'index' (one channel) or 'colour' (RGB)
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # raw values or colour codes
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    error: str = ''


def _built(cfg: dict):
    key = repr(sorted(cfg.items()))
    if key not in _BUILT:
        _BUILT[key] = TRANSFORMS.build(dict(cfg))
    return _BUILT[key]


def _mask_values(mask: np.ndarray, path: str) -> Tuple[str, np.ndarray, np.ndarray]:
    """(kind, distinct raw values or colour codes, pixel counts) of a decoded mask."""
    if mask.ndim == 3:
        values, counts = np.unique(colour_codes(mask_rgb(mask, path)), return_counts=True)
        return 'colour', values, counts
    if mask.dtype in (np.uint8, np.uint16):
        counts = np.bincount(mask.ravel())
        values = np.flatnonzero(counts)
        return 'index', values, counts[values]
    values, counts = np.unique(mask, return_counts=True)
    return 'index', values.astype(np.int64), counts


def scan_sample(task: Tuple[str, Optional[str], dict, dict, bool]) -> SampleScan:
    """Scan ``(img_path, seg_map_path, image loader cfg, LoadAnnotations cfg, with band moments)``."""
    img_path, seg_path, loader_cfg, annotations_cfg, with_moments = task
    scan = SampleScan(img_path, seg_path)
    try:
        image = _built(loader_cfg)(dict(img_path=img_path))['img']
        scan.image_hw = tuple(image.shape[:2])
        scan.bands = 1 if image.ndim == 2 else image.shape[2]
        scan.dtype = image.dtype.name
        scan.value_max = float(image.max()) if image.size else 0.0
        if with_moments:
            scan.moments = BandMoments.of_image(image)
        if seg_path is not None:
            mask = _built(annotations_cfg)._read(seg_path)
            scan.mask_hw = tuple(mask.shape[:2])
            scan.mask_kind, scan.values, scan.counts = _mask_values(mask, seg_path)
    except Exception as err:  # noqa: BLE001  (reported per file by the doctor)
        scan.error = f'{type(err).__name__}: {err}'
    return scan
