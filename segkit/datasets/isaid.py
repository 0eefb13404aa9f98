"""iSAID (Waqas Zamir et al., CVPR Workshops 2019): instance-level annotations of DOTA's aerial images."""
from segkit.registry import DATASETS
from .base import SegDataset

ISAID_CLASSES = ('background', 'ship', 'store_tank', 'baseball_diamond', 'tennis_court', 'basketball_court',
                 'Ground_Track_Field', 'Bridge', 'Large_Vehicle', 'Small_Vehicle', 'Helicopter', 'Swimming_pool',
                 'Roundabout', 'Soccer_ball_field', 'plane', 'Harbor')
#: the colours (RGB) of iSAID's semantic masks, which are also the classes' display colours
ISAID_PALETTE = [[0, 0, 0], [0, 0, 63], [0, 63, 63], [0, 63, 0], [0, 63, 127], [0, 63, 191], [0, 63, 255],
                 [0, 127, 63], [0, 127, 127], [0, 0, 127], [0, 0, 191], [0, 0, 255], [0, 191, 127], [0, 127, 191],
                 [0, 127, 255], [0, 100, 155]]


@DATASETS.register_module()
class iSAIDDataset(SegDataset):  # noqa: N801 (MMSegmentation's name)
    """iSAID, 16 classes, background included (``reduce_zero_label=False``); 255 (the padding of patches cut from
    images smaller than a patch) is ignored.

    Layout under ``data_root`` (``data/iSAID``), as ``tools/dataset_converters/isaid.py`` (or MMSegmentation's
    converter) cuts the official images and masks into 896x896 patches: ``img_dir/{train,val}/<image>_<y0>_<y1>_
    <x0>_<x1>.png``, ``ann_dir/{train,val}/<image>_<y0>_<y1>_<x0>_<x1>_instance_color_RGB.png`` (labels 0-15) and
    ``img_dir/test/*.png`` (whole images).
    """

    METAINFO = dict(classes=ISAID_CLASSES, palette=ISAID_PALETTE)

    def __init__(self, *, img_suffix: str = '.png', seg_map_suffix: str = '_instance_color_RGB.png',
                 ignore_index: int = 255, **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, ignore_index=ignore_index, **kwargs)
