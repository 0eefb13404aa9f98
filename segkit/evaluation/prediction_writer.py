"""Predicted label maps as PNG files in the formats benchmarks take.

``'train_ids'``: uint8 class indices. ``'label_ids'``: each class's official id from ``dataset_meta['label_ids']``
(Cityscapes labelIds for its server, ADE20K's 1-150). ``'palette'``: an indexed PNG whose colour table is the
dataset palette (PASCAL VOC's results format). ``'auto'``: ``dataset_meta['output_format']`` when the dataset sets
one, else ``'train_ids'``.
"""
from typing import Optional

import numpy as np
from PIL import Image

__all__ = ['OUTPUT_FORMATS', 'resolve_output_format', 'encode_prediction', 'write_prediction']

OUTPUT_FORMATS = ('auto', 'train_ids', 'label_ids', 'palette')


def resolve_output_format(output_format: str, dataset_meta: Optional[dict]) -> str:
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f'unknown output_format {output_format!r}; choose from {OUTPUT_FORMATS}')
    if output_format == 'auto':
        return (dataset_meta or {}).get('output_format', 'train_ids')
    return output_format


def encode_prediction(pred: np.ndarray, output_format: str, dataset_meta: Optional[dict]) -> Image.Image:
    """The HxW class-index map ``pred`` as a PIL image in ``output_format``."""
    meta = dataset_meta or {}
    output_format = resolve_output_format(output_format, meta)
    pred = np.asarray(pred)
    if output_format == 'label_ids':
        label_ids = meta.get('label_ids')
        classes = meta.get('classes') or ()
        if label_ids is None or len(label_ids) != len(classes):
            raise ValueError("output_format='label_ids' needs dataset_meta['label_ids'], one official id per class "
                             f'({len(classes)} classes); this dataset has {label_ids!r}')
        return Image.fromarray(np.asarray(label_ids, np.uint8)[pred])
    image = Image.fromarray(pred.astype(np.uint8))
    if output_format == 'palette':
        palette = meta.get('palette')
        if not palette:
            raise ValueError("output_format='palette' needs dataset_meta['palette']")
        image = image.convert('P')
        image.putpalette([int(c) for color in palette for c in color])
    return image


def write_prediction(pred: np.ndarray, path: str, output_format: str = 'auto',
                     dataset_meta: Optional[dict] = None) -> None:
    encode_prediction(pred, output_format, dataset_meta).save(path)
