"""The ISPRS 2D semantic labelling benchmarks: Vaihingen and Potsdam aerial orthophotos, 6 classes."""
from segkit.registry import DATASETS
from .base import SegDataset

ISPRS_CLASSES = ('impervious_surface', 'building', 'low_vegetation', 'tree', 'car', 'clutter')
#: the benchmark's label colours (RGB), which are also the classes' display colours
ISPRS_PALETTE = [[255, 255, 255], [0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]]


@DATASETS.register_module()
class ISPRSDataset(SegDataset):
    """ISPRS Vaihingen, 6 classes; label 0 (the eroded class boundaries of the ``noBoundary`` labels) is ignored
    through ``reduce_zero_label``, as in MMSegmentation.

    Layout under ``data_root`` (``data/vaihingen``), as ``tools/dataset_converters/vaihingen.py`` (or
    MMSegmentation's converter) tiles the official orthophotos: ``img_dir/{train,val}/*.png`` (512x512 tiles) and
    ``ann_dir/{train,val}/*.png`` (labels 0-6: 0 boundary, then the classes in order).
    """

    METAINFO = dict(classes=ISPRS_CLASSES, palette=ISPRS_PALETTE)

    def __init__(self, *, img_suffix: str = '.png', seg_map_suffix: str = '.png', reduce_zero_label: bool = True,
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label,
                         **kwargs)


@DATASETS.register_module()
class PotsdamDataset(ISPRSDataset):
    """ISPRS Potsdam: the classes, labels and layout of :class:`ISPRSDataset` under ``data/potsdam``, as
    ``tools/dataset_converters/potsdam.py`` (or MMSegmentation's converter) tiles the official orthophotos."""
