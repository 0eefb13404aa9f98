"""PackSegInputs: the last pipeline step, into the model's input format."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from segkit.registry import TRANSFORMS
from segkit.structures import SegDataSample

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
                     'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackSegInputs(BaseTransform):
    """Pack ``results`` into ``dict(inputs, data_samples)`` as MMSegmentation 1.x does.

    ``inputs``: CxHxW tensor of the image as loaded (uint8 BGR; the model's data preprocessor converts,
    normalises and pads). ``data_samples``: a :class:`SegDataSample` with ``gt_sem_seg`` = PixelData(data=1xHxW
    int64) when the results hold ``gt_seg_map``, and the ``meta_keys`` found in ``results`` as metainfo.
    Meta keys that no earlier step set get neutral defaults (``flip=False``, ``flip_direction=None``,
    ``scale_factor=(1.0, 1.0)``, ``pad_shape=img_shape``) so every sample carries the same keys.
    """

    def __init__(self, *, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = SegDataSample()
        seg = results.get('gt_seg_map')
        if seg is not None:
            if seg.ndim != 2:
                raise ValueError(f"PackSegInputs: gt_seg_map of {results.get('seg_map_path')} has shape "
                                 f'{seg.shape}; expected HxW.')
            sample.gt_sem_seg = PixelData(data=torch.from_numpy(seg[None].astype(np.int64)))
        defaults = dict(flip=False, flip_direction=None, scale_factor=(1.0, 1.0), pad_shape=img.shape[:2])
        meta = {}
        for key in self.meta_keys:
            if key in results:
                meta[key] = results[key]
            elif key in defaults:
                meta[key] = defaults[key]
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
