"""Loading transforms whose errors name the file at fault."""
from typing import Dict, Optional

import cv2
import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile

from segkit.datasets.colour_masks import count_colours, mask_rgb
from segkit.registry import TRANSFORMS


class DataFileError(OSError):
    """An image or mask file that exists but cannot be decoded."""


_REPLACE_IT = 'The file may be empty, truncated or not an image; replace it or drop it from the dataset.'


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, same output) with errors that name the file.

    Registered under the same name in segkit's transform registry, which ``default_scope='segkit'`` searches
    before mmengine's root where mmcv's class lives, so MMSegmentation-style configs get this one unchanged.
    mmcv's original stays reachable as ``type='mmengine.LoadImageFromFile'``.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            loaded = super().transform(results)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'image file {filename} does not exist; check data_root / data_prefix / '
                                    'img_suffix of the dataset.') from err
        except Exception as err:  # mmcv asserts on undecodable bytes; other backends raise their own errors
            raise DataFileError(f'cannot read image {filename}: {type(err).__name__}: {err}. The file may be '
                                'truncated or not an image; replace it or drop it from the dataset.') from err
        return loaded


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Read the label mask of ``results['seg_map_path']`` into ``results['gt_seg_map']`` (HxW, file dtype).

    Applies ``reduce_zero_label`` (0 -> 255, others minus one) and then ``results['label_map']`` (raw value ->
    train id). When the results carry ``num_classes`` and ``ignore_index`` (SegDataset adds them) every label
    must be a class index or the ignore index; otherwise a ``ValueError`` names the file and the bad values.

    Colour masks (RGB) are read through ``results['colour_table']`` (the dataset's ``colour_masks``): each colour
    becomes its raw label before the steps above; a colour outside the table is an error naming the file, the
    colour and its pixel count, or ``ignore_index`` when ``results['unknown_colour'] == 'ignore'``.

    Args:
        reduce_zero_label: overrides ``results['reduce_zero_label']`` when not None.
        imdecode_backend: mmcv decoding backend; 'pillow' keeps the indices of palette PNGs (VOC), which cv2
            would expand to colours.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 *,
                 reduce_zero_label: Optional[bool] = None,
                 imdecode_backend: str = 'pillow',
                 backend_args: Optional[dict] = None) -> None:
        self.reduce_zero_label = reduce_zero_label
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        mask, unknown = self._decode_colours(self._read(path), path, results)
        # ori_shape is the image as read: test pipelines load the mask after Resize, as in MMSegmentation.
        img_hw = results.get('ori_shape') or (results['img'].shape[:2] if results.get('img') is not None else None)
        if img_hw is not None and tuple(img_hw) != mask.shape:
            raise ValueError(f"image {results.get('img_path')} is {img_hw[0]}x{img_hw[1]} (HxW) but its mask "
                             f'{path} is {mask.shape[0]}x{mask.shape[1]}; masks must match their image pixel for '
                             'pixel.')
        reduce_zero_label = self.reduce_zero_label
        if reduce_zero_label is None:
            reduce_zero_label = results.get('reduce_zero_label', False)
        mask = remap_labels(mask, reduce_zero_label, results.get('label_map'), results.get('ignore_index', 255))
        if unknown is not None:
            ignore_index = results.get('ignore_index', 255)
            if mask.dtype == np.uint8 and not 0 <= ignore_index <= 255:
                mask = mask.astype(np.int64)
            mask[unknown] = ignore_index
        if results.get('num_classes') is not None:
            check_labels(mask, results['num_classes'], results.get('ignore_index', 255), path)
        results['gt_seg_map'] = mask
        results['reduce_zero_label'] = reduce_zero_label
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def _read(self, path: str) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"mask file {path} does not exist; check the dataset's data_prefix"
                                    "['seg_map_path'] and seg_map_suffix.") from err
        try:
            mask = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend)
        except Exception as err:
            raise DataFileError(f'cannot decode mask {path} ({len(data)} bytes): {type(err).__name__}: {err}. '
                                f'{_REPLACE_IT}') from err
        if mask is None:
            raise DataFileError(f'cannot decode mask {path} ({len(data)} bytes). {_REPLACE_IT}')
        return mask

    @staticmethod
    def _decode_colours(mask: np.ndarray, path: str, results: dict):
        """``(labels, unknown)``: a colour mask through the dataset's colour table (``unknown``: the pixels of no
        colour of it, when ``unknown_colour='ignore'``), an index mask as it is (``unknown`` None)."""
        table = results.get('colour_table')
        if mask.ndim == 2:
            if table is not None:
                raise DataFileError(f'mask {path} is single-channel but the dataset reads colour masks '
                                    '(colour_masks): remove colour_masks for index masks, or check the mask folder')
            return mask, None
        if table is None:
            raise DataFileError(
                f'mask {path} has {mask.shape[2]} channels: a colour-coded mask. Give the dataset its colours with '
                "colour_masks=True and the palette (metainfo=dict(palette=[[r, g, b], ...]), FolderSegDataset: "
                'palette=...) to read it as it is, or convert the folder once with '
                'tools/dataset_converters/colour_masks.py (--find lists the colours).')
        try:
            rgb = mask_rgb(mask, path)
        except ValueError as err:
            raise DataFileError(str(err)) from err
        labels, unknown = table.lookup(rgb)
        if not unknown.any():
            return labels, None
        if results.get('unknown_colour', 'error') == 'ignore':
            return labels, unknown
        found = count_colours(rgb, unknown)
        shown = ', '.join(f'{list(colour)}: {pixels} pixels' for colour, pixels in found[:5])
        more = f' and {len(found) - 5} more colours' if len(found) > 5 else ''
        raise ValueError(f'mask {path} holds colours outside the palette ({shown}{more}). Add them to the palette '
                         "(a class each), or set unknown_colour='ignore' in the dataset to ignore such pixels.")

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}')")


def remap_labels(mask: np.ndarray, reduce_zero_label: bool, label_map: Optional[Dict[int, int]],
                 ignore_index: int = 255) -> np.ndarray:
    """Apply reduce_zero_label then label_map; a 256-entry lookup table for uint8 masks."""
    if not reduce_zero_label and not label_map:
        return mask
    if mask.dtype == np.uint8:
        lut = np.arange(256, dtype=np.int64)
        if reduce_zero_label:
            lut = lut - 1
            lut[0] = lut[255] = ignore_index
        if label_map:
            lut = _apply_map(lut, label_map)
        if lut.min() >= 0 and lut.max() <= 255:
            return cv2.LUT(mask, lut.astype(np.uint8))
        return lut[mask]
    mask = mask.astype(np.int64)
    if reduce_zero_label:
        ignored = (mask == 0) | (mask == ignore_index)
        mask = mask - 1
        mask[ignored] = ignore_index
    return _apply_map(mask, label_map) if label_map else mask


def _apply_map(values: np.ndarray, label_map: Dict[int, int]) -> np.ndarray:
    out = values.copy()
    for old, new in label_map.items():
        out[values == old] = new
    return out


def check_labels(mask: np.ndarray, num_classes: int, ignore_index: int, path: str) -> None:
    """Raise if ``mask`` holds a value that is neither in [0, num_classes) nor ``ignore_index``."""
    if mask.size == 0 or (mask.min() >= 0 and mask.max() < num_classes):
        return
    if ignore_index >= num_classes and mask.min() >= 0 and (
            np.count_nonzero(mask >= num_classes) == np.count_nonzero(mask == ignore_index)):
        return  # every out-of-range pixel is an ignored one
    if mask.dtype == np.uint8:
        present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    else:
        present = np.unique(mask)
    bad = [int(v) for v in present if (v < 0 or v >= num_classes) and v != ignore_index]
    if bad:
        shown = ', '.join(map(str, bad[:10])) + (' ...' if len(bad) > 10 else '')
        raise ValueError(f'mask {path} holds label values [{shown}] that are neither a class index (0..'
                         f'{num_classes - 1} for {num_classes} classes) nor the ignore index {ignore_index}. '
                         "Check the dataset's classes, map raw values with label_map, or set reduce_zero_label="
                         "True if 0 means 'unlabelled'.")
