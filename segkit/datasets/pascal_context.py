"""PASCAL-Context (Mottaghi et al., CVPR 2014) with its 59 most frequent classes."""
from segkit.registry import DATASETS
from segkit.visualization.palette import generate_palette
from .base import SegDataset

PASCAL_CONTEXT59_CLASSES = (
    'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird', 'boat', 'book', 'bottle', 'building', 'bus',
    'cabinet', 'car', 'cat', 'ceiling', 'chair', 'cloth', 'computer', 'cow', 'cup', 'curtain', 'dog', 'door', 'fence',
    'floor', 'flower', 'food', 'grass', 'ground', 'horse', 'keyboard', 'light', 'motorbike', 'mountain', 'mouse',
    'person', 'plate', 'platform', 'pottedplant', 'road', 'rock', 'sheep', 'shelves', 'sidewalk', 'sign', 'sky',
    'snow', 'sofa', 'table', 'track', 'train', 'tree', 'truck', 'tvmonitor', 'wall', 'water', 'window', 'wood')


@DATASETS.register_module()
class PascalContextDataset59(SegDataset):
    """PASCAL-Context, 59 classes; label 0 (the other 400 classes and background) is ignored through
    ``reduce_zero_label``, as in MMSegmentation's ``PascalContextDataset59``.

    Layout under ``data_root`` (``data/VOCdevkit/VOC2010``): ``JPEGImages/*.jpg`` from VOC 2010,
    ``SegmentationClassContext/*.png`` (0-59 label maps) and ``ImageSets/SegmentationContext/{train,val}.txt``, as
    ``tools/dataset_converters/pascal_context.py`` (or MMSegmentation's converter) makes them from the official
    ``trainval.tar.gz``.
    """

    METAINFO = dict(classes=PASCAL_CONTEXT59_CLASSES, palette=[list(c) for c in generate_palette(60)[1:]])

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', reduce_zero_label: bool = True,
                 ann_file: str = 'ImageSets/SegmentationContext/train.txt', **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label,
                         ann_file=ann_file, **kwargs)
