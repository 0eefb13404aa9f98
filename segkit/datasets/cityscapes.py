"""Cityscapes with the 19 evaluation classes (train ids)."""
from segkit.registry import DATASETS
from .base import SegDataset


@DATASETS.register_module()
class CityscapesDataset(SegDataset):
    """Cityscapes fine annotations, 19 classes, 255 ignored.

    Layout under ``data_root`` (e.g. ``data/cityscapes``): ``leftImg8bit/{split}/<city>/*_leftImg8bit.png`` and
    ``gtFine/{split}/<city>/*_gtFine_labelTrainIds.png`` (made from the labelIds PNGs by cityscapesScripts'
    ``createTrainIdLabelImgs``). Pass ``data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')``
    for the val split.
    """

    METAINFO = dict(
        classes=('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
                 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                 'bicycle'),
        palette=[[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153],
                 [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60],
                 [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]])

    def __init__(self, *, img_suffix: str = '_leftImg8bit.png', seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
