"""Multi-band and high-bit-depth images: GeoTIFF / TIFF through tifffile (any band count, uint8 / uint16 / float32)
and other formats (16-bit PNG) through OpenCV's ``IMREAD_UNCHANGED``, bands in file order."""
import io
import os.path as osp
from typing import Optional, Sequence

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from segkit.registry import TRANSFORMS

from .loading import DataFileError

TIFF_SUFFIXES = ('.tif', '.tiff')
_SPATIAL_AXES = ('Y', 'X')


def _tiff_bands(data: bytes, path: str) -> np.ndarray:
    """H x W x C of a TIFF's first series, whatever its layout (interleaved ``YXS``, planar ``SYX``, pages)."""
    try:
        import tifffile
    except ImportError as err:  # a runtime requirement; imported here so that segkit imports without it
        raise ImportError(f'reading TIFF image {path} needs tifffile: pip install tifffile') from err
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        series = tif.series[0]
        array, axes = series.asarray(), series.axes
    if not set(_SPATIAL_AXES) <= set(axes):
        raise DataFileError(f'TIFF {path} has axes {axes!r} (shape {array.shape}); an image needs Y and X')
    others = [i for i, axis in enumerate(axes) if axis not in _SPATIAL_AXES and array.shape[i] > 1]
    if len(others) > 1:
        raise DataFileError(f'TIFF {path} has axes {axes!r} (shape {array.shape}): more than one axis besides Y and '
                            'X holds several planes (bands and time / pages?); keep one image per file')
    order = [axes.index('Y'), axes.index('X')]
    order += [i for i in range(array.ndim) if i not in order]  # the band axis and size-1 axes
    return array.transpose(order).reshape(array.shape[order[0]], array.shape[order[1]], -1)


def read_bands(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """The H x W x C array of an image file, bands in file order and dtype kept: TIFF through tifffile, other
    formats through OpenCV's ``IMREAD_UNCHANGED`` with its BGR(A) turned back into the file's RGB(A)."""
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as err:
        raise FileNotFoundError(f'image file {path} does not exist; check data_root / data_prefix / img_suffix of '
                                'the dataset.') from err
    try:
        if osp.splitext(path)[1].lower() in TIFF_SUFFIXES:
            return _tiff_bands(data, path)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except DataFileError:
        raise
    except Exception as err:  # tifffile and OpenCV raise their own errors on damaged files
        raise DataFileError(f'cannot read image {path}: {type(err).__name__}: {err}. The file may be truncated or '
                            'not an image; replace it or drop it from the dataset.') from err
    if image is None:
        raise DataFileError(f'cannot decode image {path} ({len(data)} bytes); replace it or drop it from the dataset.')
    if image.ndim == 2:
        return image[..., None]
    if image.shape[2] in (3, 4):
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB if image.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    return image


@TRANSFORMS.register_module()
class LoadMultiBandImage(BaseTransform):
    """Read ``results['img_path']`` into ``results['img']`` as H x W x C with every band, in file order, and the
    file's dtype (uint8, uint16, float32, ...): GeoTIFF / TIFF of any band count through tifffile, 16-bit PNG and
    other formats through OpenCV (RGB(A) order, not OpenCV's BGR).

    Use it for multispectral or high-bit-depth data with ``SegDataPreProcessor(mean=[...], std=[...])`` of one
    value per band (``tools/analysis_tools/band_stats.py`` computes them) and a backbone with
    ``in_channels=C``. Photometric steps for such images: ``BandBrightnessContrast``.

    Args:
        bands: the bands to keep, in this order (e.g. ``(3, 2, 1)``); None keeps all.
        to_float32: convert to float32 after reading.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self, *, bands: Optional[Sequence[int]] = None, to_float32: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if bands is not None and (not len(bands) or any(not isinstance(b, int) or b < 0 for b in bands)):
            raise ValueError(f'LoadMultiBandImage: bands={bands!r} must be a non-empty list of band indices >= 0')
        self.bands = None if bands is None else tuple(bands)
        self.to_float32 = to_float32
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        image = read_bands(path, self.backend_args)
        if self.bands is not None:
            if max(self.bands) >= image.shape[2]:
                raise ValueError(f'LoadMultiBandImage: bands={list(self.bands)} but image {path} has '
                                 f'{image.shape[2]} bands (0..{image.shape[2] - 1}); fix bands in the pipeline')
            image = image[..., list(self.bands)]
        if self.to_float32:
            image = image.astype(np.float32)
        results['img'] = np.ascontiguousarray(image)
        results['img_shape'] = image.shape[:2]
        results['ori_shape'] = image.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(bands={self.bands}, to_float32={self.to_float32})'
