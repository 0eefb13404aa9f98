"""PASCAL-Context (Mottaghi et al., CVPR 2014): its 59 most frequent classes, with or without background."""
from segkit.registry import DATASETS
from .base import SegDataset

PASCAL_CONTEXT59_CLASSES = (
    'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird', 'boat', 'book', 'bottle', 'building', 'bus',
    'cabinet', 'car', 'cat', 'ceiling', 'chair', 'cloth', 'computer', 'cow', 'cup', 'curtain', 'dog', 'door', 'fence',
    'floor', 'flower', 'food', 'grass', 'ground', 'horse', 'keyboard', 'light', 'motorbike', 'mountain', 'mouse',
    'person', 'plate', 'platform', 'pottedplant', 'road', 'rock', 'sheep', 'shelves', 'sidewalk', 'sign', 'sky',
    'snow', 'sofa', 'table', 'track', 'train', 'tree', 'truck', 'tvmonitor', 'wall', 'water', 'window', 'wood')
#: label 0 of the label maps: background and the other 400 classes
PASCAL_CONTEXT_CLASSES = ('background',) + PASCAL_CONTEXT59_CLASSES
#: MMSegmentation's colours for label 0 (background) to 59
PASCAL_CONTEXT_PALETTE = [
    [120, 120, 120], [180, 120, 120], [6, 230, 230], [80, 50, 50], [4, 200, 3], [120, 120, 80], [140, 140, 140],
    [204, 5, 255], [230, 230, 230], [4, 250, 7], [224, 5, 255], [235, 255, 7], [150, 5, 61], [120, 120, 70],
    [8, 255, 51], [255, 6, 82], [143, 255, 140], [204, 255, 4], [255, 51, 7], [204, 70, 3], [0, 102, 200],
    [61, 230, 250], [255, 6, 51], [11, 102, 255], [255, 7, 71], [255, 9, 224], [9, 7, 230], [220, 220, 220],
    [255, 9, 92], [112, 9, 255], [8, 255, 214], [7, 255, 224], [255, 184, 6], [10, 255, 71], [255, 41, 10],
    [7, 255, 255], [224, 255, 8], [102, 8, 255], [255, 61, 6], [255, 194, 7], [255, 122, 8], [0, 255, 20],
    [255, 8, 41], [255, 5, 153], [6, 51, 255], [235, 12, 255], [160, 150, 20], [0, 163, 255], [140, 140, 140],
    [250, 10, 15], [20, 255, 0], [31, 255, 0], [255, 31, 0], [255, 224, 0], [153, 255, 0], [0, 0, 255], [255, 71, 0],
    [0, 235, 255], [0, 173, 255], [31, 0, 255]]


@DATASETS.register_module()
class PascalContextDataset(SegDataset):
    """PASCAL-Context, 60 classes: label 0 (background and the other 400 classes) is a class, as in
    MMSegmentation's ``PascalContextDataset`` (``reduce_zero_label=False``).

    Layout under ``data_root`` (``data/VOCdevkit/VOC2010``): ``JPEGImages/*.jpg`` from VOC 2010,
    ``SegmentationClassContext/*.png`` (0-59 label maps) and ``ImageSets/SegmentationContext/{train,val}.txt``, as
    ``tools/dataset_converters/pascal_context.py`` (or MMSegmentation's converter) makes them from the official
    ``trainval.tar.gz``.
    """

    METAINFO = dict(classes=PASCAL_CONTEXT_CLASSES, palette=PASCAL_CONTEXT_PALETTE)

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', reduce_zero_label: bool = False,
                 ann_file: str = 'ImageSets/SegmentationContext/train.txt', **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label,
                         ann_file=ann_file, **kwargs)


@DATASETS.register_module()
class PascalContextDataset59(PascalContextDataset):
    """PASCAL-Context, 59 classes: the same files as :class:`PascalContextDataset`, with label 0 (the other 400
    classes and background) ignored through ``reduce_zero_label``, as in MMSegmentation's ``PascalContextDataset59``.
    """

    METAINFO = dict(classes=PASCAL_CONTEXT59_CLASSES, palette=PASCAL_CONTEXT_PALETTE[1:])

    def __init__(self, *, reduce_zero_label: bool = True, **kwargs) -> None:
        super().__init__(reduce_zero_label=reduce_zero_label, **kwargs)
