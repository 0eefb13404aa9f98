"""What is wrong with a dataset for its config, each finding with the config keys to change: missing or
unreadable files, size mismatches, colour masks, 0/255 masks, 1-based (``reduce_zero_label``) masks, values out of
range, absent classes, band counts and normalisation."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from segkit.datasets.band_stats import preprocessor_values
from segkit.models.data_preprocessor import model_channel_order, resolve_bgr_to_rgb

from .summary import SplitSummary

#: the largest 8-bit value: images above it are 16-bit or float, and so must their mean / std be
_EIGHT_BIT = 255


@dataclass
class Verdict:
    """One finding: ``'error'`` (training would fail or learn the wrong thing) or ``'warning'``."""

    severity: str
    split: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f'{self.severity.upper()} [{self.split}] {self.message} -> {self.fix}'


@dataclass
class ModelFacts:
    """What the built model expects of the data (read from it, so the config's defaults are those applied)."""

    in_channels: Optional[int]
    mean: Sequence[float]
    std: Sequence[float]
    bgr_to_rgb: Optional[bool] = None  # as the config gives it (unset: decided by the band count)
    problems: Sequence[str] = ()  # the model / dataset consistency errors (classes, ignore index)


def band_statistics(s: SplitSummary, facts: ModelFacts) -> Optional[str]:
    """``mean=[...], std=[...]`` of the split's images in the model's channel order, for the data preprocessor."""
    if s.moments is None:
        return None
    bands = len(s.moments.mean)
    order = model_channel_order(bands, resolve_bgr_to_rgb(facts.bgr_to_rgb, bands) and bands >= 3)
    return f'mean={preprocessor_values(s.moments.mean, order)}, std={preprocessor_values(s.moments.std, order)}'


def mask_style(s: SplitSummary) -> str:
    """What the raw mask values look like (the values the config ignores set aside)."""
    if any(isinstance(r.raw, tuple) for r in s.rows):
        return 'colour (RGB)'
    raw = {r.raw for r in s.rows}
    if not raw:
        return 'no masks'
    if raw <= {0, 255} and 255 in raw:
        return '0/255 binary'
    labelled = {r.raw for r in s.rows if r.label != s.ignore_index}
    ignored = sorted(raw - labelled)
    aside = f"; {_shown(ignored)} ignored" if ignored else ''
    k = s.num_classes
    if labelled and min(labelled) >= 1 and max(labelled) == k and 0 in raw:
        return f'1-based (1..{k}), 0 = unlabelled{aside}'
    if labelled and min(labelled) == 0 and max(labelled) == k:
        return f'0..{k} for {k} classes: 1-based with 0 = unlabelled?{aside}'
    if labelled and max(labelled) < k:
        return f'class indices (0..{max(labelled)}){aside}'
    return f'values up to {max(raw)} for {k} classes{aside}'


def _shown(items, limit: int = 3) -> str:
    items = list(items)
    return ', '.join(map(str, items[:limit])) + (f' (+{len(items) - limit} more)' if len(items) > limit else '')


def _files(s: SplitSummary, dataset) -> List[Verdict]:
    found = []
    if s.missing_images:
        found.append(Verdict('error', s.name, f'{len(s.missing_images)} images named in ann_file are missing, e.g. '
                             f'{s.missing_images[0]}', f'{s.key}.data_prefix.img_path / {s.key}.img_suffix'))
    if s.missing_masks:
        img, mask = s.missing_masks[0]
        found.append(Verdict('error', s.name, f'{len(s.missing_masks)} images have no mask, e.g. {img} -> {mask}',
                             f'{s.key}.data_prefix.seg_map_path / {s.key}.seg_map_suffix'))
    if s.unreadable:
        found.append(Verdict('error', s.name, f'{len(s.unreadable)} files cannot be read: {s.unreadable[0][0]} '
                             f'({s.unreadable[0][1][:120]})', 'replace those files or drop them from the split'))
    if s.size_mismatches:
        mask, img_hw, mask_hw = s.size_mismatches[0]
        found.append(Verdict('error', s.name, f'{len(s.size_mismatches)} masks differ in size from their image, e.g. '
                             f'{mask} is {mask_hw[0]}x{mask_hw[1]}, its image {img_hw[0]}x{img_hw[1]}',
                             'masks must match their image pixel for pixel: regenerate them'))
    return found


def _colours(s: SplitSummary, dataset) -> List[Verdict]:
    colour_rows = [r for r in s.rows if isinstance(r.raw, tuple)]
    if s.mask_kinds.get('index') and getattr(dataset, 'colour_table', None) is not None:
        return [Verdict('error', s.name, 'the masks are single-channel (indices) but the dataset reads colour masks',
                        f'remove {s.key}.colour_masks')]
    if not colour_rows:
        return []
    if getattr(dataset, 'colour_table', None) is None:
        top = [list(r.raw) for r in sorted(colour_rows, key=lambda r: -r.pixels)][:12]
        return [Verdict('error', s.name, f'the masks are colour-coded (RGB): {len(colour_rows)} colours, e.g. '
                        f'{top[:4]}', f'{s.key}.colour_masks=True with the palette (classes in your order: {top}) or '
                        'convert with tools/dataset_converters/colour_masks.py')]
    unknown = {r.raw: r.pixels for r in colour_rows if r.label is None}
    if unknown:
        return [Verdict('error', s.name, f'colours outside the palette: {_shown(unknown.items())}',
                        f"add them to the palette, or {s.key}.unknown_colour='ignore'")]
    return []


def _labels(s: SplitSummary, dataset) -> List[Verdict]:
    index_rows = [r for r in s.rows if not isinstance(r.raw, tuple)]
    raw = {r.raw for r in index_rows}
    k, ignore = s.num_classes, s.ignore_index
    outside = {r.raw: r.pixels for r in index_rows if r.label is not None and not 0 <= r.label < k
               and r.label != ignore}
    found = []
    if raw and raw <= {0, 255} and 255 in raw:
        label = next(r.label for r in index_rows if r.raw == 255)
        if label == ignore or not 0 <= label < k:
            return [Verdict('error', s.name, f'the masks hold 0 and 255 only (binary 0/255 masks) and 255 is read as '
                            f'{"the ignore index" if label == ignore else f"label {label}"}: no foreground would be '
                            'learned', f'{s.key}.label_map={{255: 1}} (FolderSegDataset: binary=True) with 2 classes')]
    if outside:
        if not dataset.reduce_zero_label and 0 in raw and set(outside) == {k}:
            found.append(Verdict('error', s.name, f'label values run 0..{k} for {k} classes: 1-based classes with 0 = '
                                 'unlabelled (ADE20K style)', f'{s.key}.reduce_zero_label=True'))
        else:
            found.append(Verdict('error', s.name, f'values outside 0..{k - 1} and the ignore index {ignore}: '
                                 f'{_shown(f"{v} ({p} px)" for v, p in sorted(outside.items()))}',
                                 f'{s.key}.label_map={{value: class}}, the classes (num_classes), or '
                                 f'{s.key}.ignore_index'))
    elif dataset.reduce_zero_label and raw and max(raw - {255, ignore}, default=0) < k and 0 in raw:
        found.append(Verdict('warning', s.name, f'reduce_zero_label=True but the values run 0..{max(raw - {255})} for '
                             f'{k} classes: class 0 becomes ignored and class {k - 1} never occurs',
                             f'{s.key}.reduce_zero_label=False'))
    if s.name == 'train' and s.counts.size:
        absent = [dataset.metainfo['classes'][c] for c in np.flatnonzero(s.counts.sum(axis=0) == 0)]
        if absent:
            found.append(Verdict('warning', s.name, f'classes without a pixel in the training masks: {_shown(absent)}',
                                 'check the classes and label_map, or add images of them'))
    return found


def _bands(s: SplitSummary, facts: ModelFacts) -> List[Verdict]:
    found = []
    if len(s.bands) > 1:
        found.append(Verdict('error', s.name, f'images with different band counts: {dict(s.bands)}',
                             'give every image the same bands (LoadMultiBandImage(bands=[...]) selects them)'))
    if not s.bands or s.moments is None:
        return found
    bands = max(s.bands, key=s.bands.get)
    stats = band_statistics(s, facts)
    if bands != len(facts.mean):
        found.append(Verdict('error', s.name, f'the images have {bands} bands but the data preprocessor normalises '
                             f'{len(facts.mean)}',
                             f'model.data_preprocessor {stats} and model.backbone.in_channels={bands}'))
    elif facts.in_channels is not None and facts.in_channels != bands:
        found.append(Verdict('error', s.name, f'the images have {bands} bands but model.backbone.in_channels='
                             f'{facts.in_channels}', f'model.backbone.in_channels={bands}'))
    if s.loader == 'LoadMultiBandImage' and bands >= 3 and resolve_bgr_to_rgb(facts.bgr_to_rgb, bands):
        found.append(Verdict('warning', s.name, 'LoadMultiBandImage gives the bands in file order, and '
                             'model.data_preprocessor.bgr_to_rgb=True reverses the first three (for BGR files only)',
                             'model.data_preprocessor.bgr_to_rgb=False'))
    if s.value_max > _EIGHT_BIT and max(facts.mean) <= _EIGHT_BIT:
        found.append(Verdict('error', s.name, f'pixel values reach {s.value_max:g} ({_shown(s.dtypes)}) but '
                             'model.data_preprocessor.mean/std are on the 8-bit scale', f'model.data_preprocessor '
                             f'{stats}'))
    elif s.value_max <= 1 and any('float' in d for d in s.dtypes) and max(facts.mean) > 1:
        found.append(Verdict('error', s.name, f'float images in 0..1 (largest value {s.value_max:g}) but '
                             'model.data_preprocessor.mean/std are on the 0..255 scale',
                             f'model.data_preprocessor {stats}'))
    return found


RULES: Sequence[Callable] = (_files, _colours, _labels)


def judge(summaries: Sequence[SplitSummary], datasets: Sequence, facts: ModelFacts) -> List[Verdict]:
    """Every finding on the splits (each with its built dataset) and the model; empty when all is well."""
    found = [Verdict('error', 'model', problem, 'the keys named above') for problem in facts.problems]
    for summary, dataset in zip(summaries, datasets):
        for rule in RULES:
            found += rule(summary, dataset)
        found += _bands(summary, facts)
    return found
