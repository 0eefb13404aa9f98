"""Data transforms (registered in segkit.registry.TRANSFORMS).

mmcv's ``RandomResize``, ``Resize``, ``RandomFlip`` and ``TestTimeAug`` already resize (nearest) and flip
``gt_seg_map`` along with the image, so configs use them directly; they live in mmengine's root registry, which
segkit's transform registry falls back to.
"""
import mmcv.transforms  # noqa: F401  (registers mmcv's transforms in mmengine's root registry)

from .band_loading import LoadMultiBandImage, read_bands
from .band_photometric import BandBrightnessContrast
from .formatting import PackSegInputs
from .loading import DataFileError, LoadAnnotations, LoadImageFromFile
from .photometric import PhotoMetricDistortion
from .random_crop import RandomCrop

__all__ = ['LoadImageFromFile', 'LoadMultiBandImage', 'LoadAnnotations', 'DataFileError', 'RandomCrop',
           'PhotoMetricDistortion', 'BandBrightnessContrast', 'PackSegInputs', 'read_bands']
