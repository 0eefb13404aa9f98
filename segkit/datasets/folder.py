"""FolderSegDataset: any image folder + mask folder pair, with a class list from the config."""
import os.path as osp
from typing import Optional, Sequence, Union

import mmcv
import numpy as np

from segkit.registry import DATASETS
from .base import SegDataset

BINARY_THRESHOLD = 128
_PROBE_MASKS = 8


@DATASETS.register_module()
class FolderSegDataset(SegDataset):
    """A generic dataset: images in ``data_root/img_dir``, masks with the same relative names in
    ``data_root/ann_dir``, class names (and optionally a palette) given directly::

        dict(type='FolderSegDataset', data_root='data/leaves', img_dir='images/train', ann_dir='masks/train',
             classes=('healthy', 'disease'), img_suffix='.jpg', seg_map_suffix='.png')

    Masks hold class indices (0..len(classes)-1) and ``ignore_index`` for unlabelled pixels.

    Binary masks saved as 0/255 images (common for 2-class foreground/background data) are mapped to 0/1 with
    ``binary=True``: every value >= 128 becomes 1 and the rest 0 (so anti-aliased or JPEG-compressed edges
    still work; such masks cannot mark ignored pixels). ``binary='auto'`` (default) turns this on for 2-class
    datasets when the first masks hold only 0 and 255 (with some 255); ``binary=False`` keeps 255 = ignore.

    Colour-coded masks: ``palette=[...]`` (one colour per class) with ``colour_masks=True`` (see
    :class:`SegDataset`); ``binary`` does not apply to them.
    """

    def __init__(self,
                 *,
                 classes: Sequence[str],
                 img_dir: str = 'images',
                 ann_dir: Optional[str] = 'masks',
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 binary: Union[bool, str] = 'auto',
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if binary not in (True, False, 'auto'):
            raise ValueError(f"FolderSegDataset: binary must be True, False or 'auto', got {binary!r}.")
        if binary is True and len(classes) != 2:
            raise ValueError(f'FolderSegDataset: binary=True needs exactly 2 classes, got {list(classes)}.')
        if 'data_prefix' in kwargs:
            raise TypeError('FolderSegDataset takes img_dir and ann_dir instead of data_prefix.')
        self.binary = binary
        metainfo = dict(metainfo or {}, classes=tuple(classes))
        if palette is not None:
            metainfo['palette'] = [list(c) for c in palette]
        data_prefix = dict(img_path=img_dir, seg_map_path=ann_dir or '')
        super().__init__(data_prefix=data_prefix, metainfo=metainfo, img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> list:
        data_list = super().load_data_list()
        if self.colour_table is not None:
            if self.binary is True:
                raise ValueError('FolderSegDataset: binary=True maps grey 0/255 masks; colour masks are read through '
                                 'the palette (colour_masks): drop binary=True')
            self.binary = False
        if self.binary == 'auto':
            self.binary = self.num_classes == 2 and self._looks_binary(data_list)
        if self.binary:
            self.label_map = {v: int(v >= BINARY_THRESHOLD) for v in range(1, 256)}
            self._metainfo['label_map'] = self.label_map
        return data_list

    @staticmethod
    def _looks_binary(data_list: list) -> bool:
        """True when the first masks hold only 0 and 255 and at least one holds 255."""
        seen = set()
        for info in data_list[:_PROBE_MASKS]:
            if info['seg_map_path'] is None or not osp.isfile(info['seg_map_path']):
                return False
            with open(info['seg_map_path'], 'rb') as f:
                mask = mmcv.imfrombytes(f.read(), flag='unchanged', backend='pillow')
            if mask is None:
                return False
            seen.update(np.unique(mask).tolist())
            if not seen <= {0, 255}:
                return False
        return 255 in seen
