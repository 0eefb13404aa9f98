"""Label maps as palette ("P" mode) PNGs: viewers show the class colours, readers get the class ids back."""
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import Image

__all__ = ['read_label_png', 'write_label_png']


def write_label_png(path: Union[str, Path], label_map, palette: Sequence[Sequence[int]]) -> None:
    """Write an HxW label map (array or tensor, ids 0-255) as an 8-bit PNG whose colour table is ``palette``
    (RGB, from :func:`segkit.visualization.get_palette`); ids without a colour show black."""
    if hasattr(label_map, 'detach'):
        label_map = label_map.detach().cpu().numpy()
    labels = np.asarray(label_map)
    if labels.ndim == 3 and labels.shape[0] == 1:
        labels = labels[0]
    if labels.ndim != 2:
        raise ValueError(f'{path}: label map must be HxW, got shape {labels.shape}')
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f'{path}: a palette PNG holds ids 0-255, got {labels.min()}..{labels.max()}; '
                         'save more classes as a 16-bit PNG instead (cv2.imwrite of a uint16 array)')
    table = np.zeros((256, 3), dtype=np.uint8)
    colors = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:256]
    table[:len(colors)] = colors
    image = Image.fromarray(labels.astype(np.uint8))
    image.putpalette(table.reshape(-1).tolist())  # an 'L' image with a palette becomes 'P'
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path), format='PNG', optimize=True)


def read_label_png(path: Union[str, Path]) -> np.ndarray:
    """The class ids of a label PNG (palette or greyscale) as an HxW uint8 array."""
    with Image.open(str(path)) as image:
        if image.mode not in ('P', 'L'):
            raise ValueError(f'{path}: expected a palette or greyscale label PNG, got mode {image.mode}')
        return np.array(image)
