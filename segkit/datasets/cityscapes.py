"""Cityscapes with the 19 evaluation classes (train ids), and the official label table they come from."""
from typing import NamedTuple, Tuple

from segkit.registry import DATASETS
from .base import SegDataset


class CityscapesLabel(NamedTuple):
    name: str
    label_id: int  # the id in *_gtFine_labelIds.png and in submissions
    train_id: int  # 0-18 for the evaluated classes, 255 for the rest


# The official table (cityscapesScripts, helpers/labels.py): every annotated label with its ids. 'license plate'
# (id -1) is never drawn into label images.
CITYSCAPES_LABELS: Tuple[CityscapesLabel, ...] = tuple(CityscapesLabel(*row) for row in (
    ('unlabeled', 0, 255), ('ego vehicle', 1, 255), ('rectification border', 2, 255), ('out of roi', 3, 255),
    ('static', 4, 255), ('dynamic', 5, 255), ('ground', 6, 255), ('road', 7, 0), ('sidewalk', 8, 1),
    ('parking', 9, 255), ('rail track', 10, 255), ('building', 11, 2), ('wall', 12, 3), ('fence', 13, 4),
    ('guard rail', 14, 255), ('bridge', 15, 255), ('tunnel', 16, 255), ('pole', 17, 5), ('polegroup', 18, 255),
    ('traffic light', 19, 6), ('traffic sign', 20, 7), ('vegetation', 21, 8), ('terrain', 22, 9), ('sky', 23, 10),
    ('person', 24, 11), ('rider', 25, 12), ('car', 26, 13), ('truck', 27, 14), ('bus', 28, 15),
    ('caravan', 29, 255), ('trailer', 30, 255), ('train', 31, 16), ('motorcycle', 32, 17), ('bicycle', 33, 18),
    ('license plate', -1, -1)))

#: train id -> official label id (index i holds the label id of train id i), for submissions
TRAIN_ID_TO_LABEL_ID: Tuple[int, ...] = tuple(
    label.label_id for label in sorted((lb for lb in CITYSCAPES_LABELS if 0 <= lb.train_id < 255),
                                       key=lambda lb: lb.train_id))


@DATASETS.register_module()
class CityscapesDataset(SegDataset):
    """Cityscapes fine annotations, 19 classes, 255 ignored.

    Layout under ``data_root`` (e.g. ``data/cityscapes``): ``leftImg8bit/{split}/<city>/*_leftImg8bit.png`` and
    ``gtFine/{split}/<city>/*_gtFine_labelTrainIds.png`` (made from the official polygons or labelIds by
    ``tools/dataset_converters/cityscapes.py``). Pass ``data_prefix=dict(img_path='leftImg8bit/val',
    seg_map_path='gtFine/val')`` for the val split. Predictions written by ``tools/test.py --out`` are labelIds
    PNGs, the format of the benchmark server.
    """

    METAINFO = dict(
        classes=('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
                 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                 'bicycle'),
        palette=[[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153],
                 [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60],
                 [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]],
        label_ids=TRAIN_ID_TO_LABEL_ID,
        output_format='label_ids')

    def __init__(self, *, img_suffix: str = '_leftImg8bit.png', seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
