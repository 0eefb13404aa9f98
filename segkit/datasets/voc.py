"""PASCAL VOC 2012 (and its SBD-augmented training set)."""
from typing import List

from segkit.registry import DATASETS
from .base import SegDataset


def voc_palette(num_classes: int = 21) -> List[List[int]]:
    """The standard VOC colour map: class id bits spread over the high bits of R, G and B."""
    palette = []
    for class_id in range(num_classes):
        rgb, bits = [0, 0, 0], class_id
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((bits >> channel) & 1) << shift
            bits >>= 3
        palette.append(rgb)
    return palette


@DATASETS.register_module()
class PascalVOCDataset(SegDataset):
    """PASCAL VOC 2012: 20 object classes plus background; 255 marks object borders (ignored).

    Layout under ``data_root`` (e.g. ``data/VOCdevkit/VOC2012``): ``JPEGImages/*.jpg``,
    ``SegmentationClass/*.png`` (palette PNGs: LoadAnnotations' default pillow backend reads their indices) and
    ``ImageSets/Segmentation/{train,val}.txt``.

    The SBD-augmented set ("trainaug", 10582 images) adds ``SegmentationClassAug/*.png`` (grey index PNGs made
    from SBD) and ``ImageSets/Segmentation/aug.txt`` (the SBD names that are not in VOC val). A ``_base_``
    config combines the two with mmengine's ConcatDataset::

        voc = dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
                   data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                   ann_file='ImageSets/Segmentation/train.txt', pipeline=train_pipeline)
        voc_aug = dict(voc, data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
                       ann_file='ImageSets/Segmentation/aug.txt')
        train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[voc, voc_aug]))
    """

    METAINFO = dict(
        classes=('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
                 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
                 'train', 'tvmonitor'),
        palette=voc_palette(21))

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
