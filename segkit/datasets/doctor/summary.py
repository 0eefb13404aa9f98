"""A split's scans summed up: files found and missing, sizes, bands, and every raw mask value (or colour) with the
label the dataset turns it into (its colour table, ``reduce_zero_label`` and ``label_map``: the same code as
``LoadAnnotations``), with pixel and image counts."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from segkit.datasets.band_stats import BandMoments, combine
from segkit.datasets.colour_masks import code_to_colour
from segkit.datasets.transforms.loading import remap_labels

from .scan import SampleScan

Raw = Union[int, Tuple[int, int, int]]


@dataclass
class ValueRow:
    """A raw mask value (or colour), the training label it becomes (None: a colour outside the palette, or a
    colour mask read without one), and its pixels and images."""

    raw: Raw
    label: Optional[int]
    pixels: int
    images: int


@dataclass
class SplitSummary:
    """Everything the verdicts and the table need about one split."""

    name: str  # 'train', 'val', 'test'
    key: str  # its config key, e.g. 'train_dataloader.dataset'
    num_classes: int
    ignore_index: int
    images_found: int = 0
    missing_images: List[str] = field(default_factory=list)
    missing_masks: List[Tuple[str, str]] = field(default_factory=list)
    unreadable: List[Tuple[str, str]] = field(default_factory=list)
    size_mismatches: List[Tuple[str, Tuple[int, int], Tuple[int, int]]] = field(default_factory=list)
    bands: Counter = field(default_factory=Counter)
    dtypes: Counter = field(default_factory=Counter)
    value_max: float = 0.0
    mask_kinds: Counter = field(default_factory=Counter)
    rows: List[ValueRow] = field(default_factory=list)
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))  # images x classes
    image_pixels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    moments: Optional[BandMoments] = None
    loader: str = 'LoadImageFromFile'  # the pipeline step that reads the images

    @property
    def masks_found(self) -> int:
        return int(sum(self.mask_kinds.values()))

    def pixels_where(self, test) -> Dict[Raw, int]:
        """``{raw: pixels}`` of the rows whose label passes ``test``."""
        return {row.raw: row.pixels for row in self.rows if test(row.label)}


def raw_labels(dataset, kind: str, values: np.ndarray) -> List[Optional[int]]:
    """The training label of each raw value (index masks) or colour code (colour masks) of ``dataset``."""
    ignore = dataset.ignore_index
    table = getattr(dataset, 'colour_table', None)
    unknown = np.zeros(len(values), bool)
    if kind == 'colour':
        if table is None:
            return [None] * len(values)
        rgb = np.array([code_to_colour(v) for v in values], np.uint8).reshape(1, -1, 3)
        raw, unknown = (a[0] for a in table.lookup(rgb))
    else:
        raw = np.asarray(values)
        raw = raw.astype(np.uint8) if raw.size and raw.min() >= 0 and raw.max() <= 255 else raw.astype(np.int64)
    labels = remap_labels(raw, dataset.reduce_zero_label, dataset.label_map, ignore)
    ignored_colour = getattr(dataset, 'unknown_colour', 'error') == 'ignore'
    return [(ignore if ignored_colour else None) if bad else int(label) for label, bad in zip(labels, unknown)]


def summarize_split(name: str, key: str, dataset, listing, scans: Sequence[SampleScan],
                    loader: str = 'LoadImageFromFile') -> SplitSummary:
    """Sum up the scans of one split of ``dataset`` (whose ``listing`` gave the missing files; ``loader`` the
    type of the pipeline step that read the images)."""
    num_classes = len(dataset.metainfo['classes'])
    summary = SplitSummary(name, key, num_classes, dataset.ignore_index, images_found=len(listing.pairs),
                           missing_images=list(listing.missing_images), missing_masks=list(listing.missing_masks),
                           loader=loader)
    pixels: Counter = Counter()
    images: Counter = Counter()
    labels: Dict[Tuple[str, int], Optional[int]] = {}  # (mask kind, raw value or colour code) -> label
    counts, image_pixels, moments = [], [], []
    for scan in scans:
        if scan.error:
            summary.unreadable.append((scan.img_path, scan.error))
            continue
        summary.bands[scan.bands] += 1
        summary.dtypes[scan.dtype] += 1
        summary.value_max = max(summary.value_max, scan.value_max)
        if scan.moments is not None:
            moments.append(scan.moments)
        if scan.mask_hw is None:
            continue
        if scan.mask_hw != scan.image_hw:
            summary.size_mismatches.append((scan.seg_map_path, scan.image_hw, scan.mask_hw))
        summary.mask_kinds[scan.mask_kind] += 1
        row = np.zeros(num_classes, np.int64)
        new = [v for v in scan.values.tolist() if (scan.mask_kind, v) not in labels]
        labels.update(zip([(scan.mask_kind, v) for v in new],
                          raw_labels(dataset, scan.mask_kind, np.array(new, scan.values.dtype))))
        for value, count in zip(scan.values.tolist(), scan.counts.tolist()):
            pixels[(scan.mask_kind, value)] += count
            images[(scan.mask_kind, value)] += 1
            label = labels[(scan.mask_kind, value)]
            if label is not None and 0 <= label < num_classes:
                row[label] += count
        counts.append(row)
        image_pixels.append(int(scan.counts.sum()))
    summary.rows = [ValueRow(code_to_colour(value) if kind == 'colour' else int(value), labels[(kind, value)],
                             pixels[(kind, value)], images[(kind, value)]) for kind, value in sorted(pixels)]
    summary.counts = np.array(counts, np.int64).reshape(-1, num_classes)
    summary.image_pixels = np.array(image_pixels, np.int64)
    summary.moments = combine(moments) if moments else None
    return summary
