"""Colour-coded masks: exact RGB -> label lookups, and the colours a mask holds.

One table maps colours to label values for the datasets (``colour_masks=...``, read by ``LoadAnnotations``), the
folder converter (``tools/dataset_converters/colour_masks.py``), the ISPRS / iSAID converters and the data doctor.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ['ColourTable', 'colour_codes', 'code_to_colour', 'colours_to_labels', 'count_colours',
           'dataset_colour_table', 'mask_rgb', 'UNKNOWN_COLOUR_CHOICES']

Colour = Tuple[int, int, int]

#: What ``unknown_colour`` may say about a pixel whose colour is not in the table.
UNKNOWN_COLOUR_CHOICES = ('error', 'ignore')


def colour_codes(rgb: np.ndarray) -> np.ndarray:
    """The HxW int32 code ``r << 16 | g << 8 | b`` of each pixel of an HxWx3 uint8 RGB image."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'a colour-coded mask has 3 channels (RGB), got shape {rgb.shape}')
    rgb = rgb.astype(np.int32, copy=False)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def code_to_colour(code: int) -> Colour:
    """``(r, g, b)`` of a :func:`colour_codes` value."""
    code = int(code)
    return (code >> 16) & 255, (code >> 8) & 255, code & 255


def mask_rgb(mask: np.ndarray, path: str) -> np.ndarray:
    """The HxWx3 RGB array of a colour mask decoded BGR or BGRA (OpenCV / mmcv order); an alpha channel must be
    opaque everywhere (otherwise the colour of a pixel is not defined by the file alone)."""
    if mask.ndim != 3 or mask.shape[2] not in (3, 4):
        raise ValueError(f'mask {path} has shape {mask.shape}; a colour mask is HxWx3 (RGB) or HxWx4 (RGBA)')
    if mask.dtype != np.uint8:
        raise ValueError(f'colour mask {path} is {mask.dtype}; colour masks are 8 bits per channel')
    if mask.shape[2] == 4:
        if mask[..., 3].min() != 255:
            raise ValueError(f'colour mask {path} has an alpha channel with transparent pixels '
                             f'({int(np.count_nonzero(mask[..., 3] != 255))} of them); save it as RGB')
        mask = mask[..., :3]
    return mask[..., ::-1]


class ColourTable:
    """An exact map from colours to label values: ``colours[i]`` -> ``values[i]`` (default ``i``).

    A colour given twice is an error; :meth:`lookup` marks the pixels whose colour is in no entry.
    """

    def __init__(self, colours: Sequence[Sequence[int]], values: Optional[Sequence[int]] = None) -> None:
        colours = [tuple(int(c) for c in colour) for colour in colours]
        bad = [c for c in colours if len(c) != 3 or not all(0 <= v <= 255 for v in c)]
        if bad:
            raise ValueError(f'mask colours must be [r, g, b] with values in 0..255, got {list(bad[0])}')
        values = list(range(len(colours))) if values is None else [int(v) for v in values]
        if len(values) != len(colours):
            raise ValueError(f'{len(colours)} colours but {len(values)} label values')
        seen = {}
        for index, colour in enumerate(colours):
            if colour in seen:
                raise ValueError(f'colour {list(colour)} is given twice (entries {seen[colour]} and {index}); each '
                                 'class needs its own colour in a colour-coded mask')
            seen[colour] = index
        self.colours: Tuple[Colour, ...] = tuple(colours)
        self.values: Tuple[int, ...] = tuple(values)
        codes = np.array([(r << 16) | (g << 8) | b for r, g, b in colours], np.int32)
        order = np.argsort(codes)
        self._codes = codes[order]
        self._values = np.array(values, np.int64)[order]

    def lookup(self, rgb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``(labels, unknown)`` of an HxWx3 RGB mask: the HxW label values (uint8 when they fit, 0 where
        ``unknown``) and the HxW bool map of pixels whose colour is not in the table."""
        codes = colour_codes(rgb)
        if not len(self._codes):
            return np.zeros(codes.shape, np.uint8), np.ones(codes.shape, bool)
        position = np.searchsorted(self._codes, codes)
        np.minimum(position, len(self._codes) - 1, out=position)
        unknown = self._codes[position] != codes
        fits = self._values.min() >= 0 and self._values.max() <= 255
        labels = self._values.astype(np.uint8 if fits else np.int64)[position]
        labels[unknown] = 0
        return labels, unknown

    def __repr__(self) -> str:
        return f'{type(self).__name__}({len(self.colours)} colours)'


def count_colours(rgb: np.ndarray, where: Optional[np.ndarray] = None) -> List[Tuple[Colour, int]]:
    """``[(colour, pixels), ...]`` of an HxWx3 RGB image (only the pixels of the bool map ``where`` when given),
    most frequent first."""
    codes = colour_codes(rgb)
    if where is not None:
        codes = codes[where]
    values, counts = np.unique(codes, return_counts=True)
    order = np.argsort(-counts, kind='stable')
    return [(code_to_colour(values[i]), int(counts[i])) for i in order]


def colours_to_labels(rgb: np.ndarray, colours: Sequence[Sequence[int]], other: int = 0) -> Tuple[np.ndarray, int]:
    """``(labels, unmatched)``: the HxW uint8 map of an HxWx3 RGB image, ``i`` where a pixel is ``colours[i]`` and
    ``other`` where it is none of them, and the number of such unmatched pixels."""
    labels, unknown = ColourTable(colours).lookup(rgb)
    labels = labels.astype(np.uint8, copy=False)
    labels[unknown] = other
    return labels, int(np.count_nonzero(unknown))


def dataset_colour_table(name: str, colour_masks: Union[bool, Sequence[Sequence[int]], None],
                         fixed_palette: Optional[Sequence[Sequence[int]]],
                         given_palette: Optional[Sequence[Sequence[int]]]) -> Optional[ColourTable]:
    """The colour -> raw label table of a dataset's ``colour_masks`` (None: index masks): ``True`` takes the
    class's own palette (``fixed_palette``, e.g. CamVid's) or else the one the config gives; a list gives the
    colours of raw labels 0, 1, ... itself. ``name`` (the dataset class) prefixes the errors."""
    if colour_masks is False or colour_masks is None:
        return None
    if colour_masks is True:
        colours = fixed_palette or given_palette
        if not colours:
            raise ValueError(f'{name}: colour_masks=True reads mask colours through the palette, but none is '
                             "given: set metainfo=dict(palette=[[r, g, b], ...]) (FolderSegDataset: palette=...) "
                             'with one colour per class, or colour_masks=[[r, g, b], ...] (raw label order). '
                             'tools/dataset_converters/colour_masks.py MASK_DIR --find lists the colours.')
    else:
        colours = colour_masks
    try:
        return ColourTable(colours)
    except ValueError as err:
        raise ValueError(f'{name}: colour_masks: {err}') from err
