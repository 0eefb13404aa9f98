"""CamVid, 11-class SegNet version."""
from typing import Dict, Optional

from segkit.registry import DATASETS
from .base import SegDataset

VOID_LABEL = 11


@DATASETS.register_module()
class CamVidDataset(SegDataset):
    """CamVid street scenes in the SegNet layout: ``train/`` (480x360 RGB PNG), ``trainannot/`` (index PNG, same
    names), ``val/``, ``valannot/``, and ``train.txt`` / ``val.txt`` listing base names.

    Label 11 (void) becomes ``ignore_index`` through ``label_map``, so it counts in neither loss nor metric::

        dict(type='CamVidDataset', data_root='data/camvid', ann_file='val.txt',
             data_prefix=dict(img_path='val', seg_map_path='valannot'))
    """

    METAINFO = dict(
        classes=('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol', 'Fence', 'Car', 'Pedestrian',
                 'Bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0], [0, 128, 192]])

    def __init__(self, *, img_suffix: str = '.png', seg_map_suffix: str = '.png', ann_file: str = 'train.txt',
                 ignore_index: int = 255, label_map: Optional[Dict[int, int]] = None, **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='train', seg_map_path='trainannot'))
        label_map = {VOID_LABEL: ignore_index, **(label_map or {})}
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, ann_file=ann_file,
                         ignore_index=ignore_index, label_map=label_map, **kwargs)
