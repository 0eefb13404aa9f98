"""PASCAL VOC 2012 (and its SBD-augmented training set)."""
from segkit.registry import DATASETS
from segkit.visualization.palette import generate_palette
from .base import SegDataset


@DATASETS.register_module()
class PascalVOCDataset(SegDataset):
    """PASCAL VOC 2012: 20 object classes plus background; 255 marks object borders (ignored).

    Layout under ``data_root`` (e.g. ``data/VOCdevkit/VOC2012``): ``JPEGImages/*.jpg``,
    ``SegmentationClass/*.png`` (palette PNGs: LoadAnnotations' default pillow backend reads their indices) and
    ``ImageSets/Segmentation/{train,val}.txt``. ``tools/test.py --out`` writes indexed PNGs in VOC's colour map,
    the format of the evaluation server.

    The SBD-augmented training set of the DeepLab papers ("trainaug", 10582 images) is made by
    ``tools/dataset_converters/voc_aug.py``: ``SegmentationClassAug/*.png`` (grey index PNGs: SBD's labels, and
    VOC's own wherever VOC has one) and ``ImageSets/Segmentation/aug.txt`` (SBD train + val + VOC train, minus VOC
    val)::

        dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012', ann_file='ImageSets/Segmentation/aug.txt',
             data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'))
    """

    METAINFO = dict(
        classes=('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
                 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
                 'train', 'tvmonitor'),
        palette=[list(c) for c in generate_palette(21)],  # the VOC colour map
        output_format='palette')  # tools/test.py --out writes indexed PNGs with it, VOC's results format

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
