"""Class colours for drawing label maps (RGB, as datasets' ``metainfo['palette']`` stores them)."""
from typing import List, Optional, Sequence, Tuple

__all__ = ['get_palette', 'generate_palette']

Color = Tuple[int, int, int]


def generate_palette(num_colors: int) -> List[Color]:
    """A deterministic palette of distinct colours (the PASCAL VOC colour map scheme).

    Bits 0, 1, 2 of the class id set the top bit of R, G, B, bits 3, 4, 5 the next bit down, and so on, so
    neighbouring ids differ strongly, ids below 2**24 never share a colour, and id 0 (usually background) is black.
    """
    colors = []
    for class_id in range(num_colors):
        r = g = b = 0
        value = class_id
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        colors.append((r, g, b))
    return colors


def get_palette(*, palette: Optional[Sequence[Sequence[int]]] = None, classes: Optional[Sequence[str]] = None,
                num_classes: Optional[int] = None) -> List[Color]:
    """The dataset's ``palette`` if given, else a generated one with a colour for each class.

    The number of classes comes from ``classes`` or ``num_classes``; a given palette shorter than that is
    extended with generated colours, so every class has one.
    """
    if classes is not None:
        num_classes = len(classes)
    if palette is not None:
        colors = [tuple(int(c) for c in color) for color in palette]
        bad = [color for color in colors if len(color) != 3 or not all(0 <= c <= 255 for c in color)]
        if bad:
            raise ValueError(f'palette colours must be 3 values in [0, 255], got {bad[:3]}')
        missing = (num_classes or 0) - len(colors)
        if missing > 0:
            colors += generate_palette(len(colors) + missing)[len(colors):]
        return colors
    if num_classes is None:
        raise ValueError('get_palette needs a palette, classes or num_classes')
    return generate_palette(num_classes)
