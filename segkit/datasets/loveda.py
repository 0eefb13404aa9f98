"""LoveDA (Wang et al., NeurIPS 2021 Datasets): land cover of rural and urban scenes, 7 classes."""
from segkit.registry import DATASETS
from .base import SegDataset


@DATASETS.register_module()
class LoveDADataset(SegDataset):
    """LoveDA, 7 classes; label 0 (no data) is ignored through ``reduce_zero_label``, as in MMSegmentation.

    Layout under ``data_root`` (``data/loveDA``), as ``tools/dataset_converters/loveda.py`` (or MMSegmentation's
    converter) makes it from the official ``Train.zip``, ``Val.zip`` and ``Test.zip``: ``img_dir/{train,val,test}/
    *.png`` (1024x1024, rural and urban together) and ``ann_dir/{train,val}/*.png`` (labels 0-7).
    """

    METAINFO = dict(
        classes=('background', 'building', 'road', 'water', 'barren', 'forest', 'agricultural'),
        palette=[[255, 255, 255], [255, 0, 0], [255, 255, 0], [0, 0, 255], [159, 129, 183], [0, 255, 0],
                 [255, 195, 128]])

    def __init__(self, *, img_suffix: str = '.png', seg_map_suffix: str = '.png', reduce_zero_label: bool = True,
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label,
                         **kwargs)
