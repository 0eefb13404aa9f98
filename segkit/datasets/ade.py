"""ADE20K, the 150-class SceneParsing benchmark (MIT ADEChallengeData2016)."""
from segkit.registry import DATASETS
from segkit.visualization.palette import generate_palette
from .base import SegDataset

# objectInfo150 order (the first name of each entry), as the label PNGs number them from 1
ADE20K_CLASSES = (
    'wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed', 'windowpane', 'grass', 'cabinet',
    'sidewalk', 'person', 'earth', 'door', 'table', 'mountain', 'plant', 'curtain', 'chair', 'car', 'water',
    'painting', 'sofa', 'shelf', 'house', 'sea', 'mirror', 'rug', 'field', 'armchair', 'seat', 'fence', 'desk',
    'rock', 'wardrobe', 'lamp', 'bathtub', 'railing', 'cushion', 'base', 'box', 'column', 'signboard',
    'chest of drawers', 'counter', 'sand', 'sink', 'skyscraper', 'fireplace', 'refrigerator', 'grandstand', 'path',
    'stairs', 'runway', 'case', 'pool table', 'pillow', 'screen door', 'stairway', 'river', 'bridge', 'bookcase',
    'blind', 'coffee table', 'toilet', 'flower', 'book', 'hill', 'bench', 'countertop', 'stove', 'palm',
    'kitchen island', 'computer', 'swivel chair', 'boat', 'bar', 'arcade machine', 'hovel', 'bus', 'towel', 'light',
    'truck', 'tower', 'chandelier', 'awning', 'streetlight', 'booth', 'television receiver', 'airplane',
    'dirt track', 'apparel', 'pole', 'land', 'bannister', 'escalator', 'ottoman', 'bottle', 'buffet', 'poster',
    'stage', 'van', 'ship', 'fountain', 'conveyer belt', 'canopy', 'washer', 'plaything', 'swimming pool', 'stool',
    'barrel', 'basket', 'waterfall', 'tent', 'bag', 'minibike', 'cradle', 'oven', 'ball', 'food', 'step', 'tank',
    'trade name', 'microwave', 'pot', 'animal', 'bicycle', 'lake', 'dishwasher', 'screen', 'blanket', 'sculpture',
    'hood', 'sconce', 'vase', 'traffic light', 'tray', 'ashcan', 'fan', 'pier', 'crt screen', 'plate', 'monitor',
    'bulletin board', 'shower', 'radiator', 'glass', 'clock', 'flag')


@DATASETS.register_module()
class ADE20KDataset(SegDataset):
    """ADE20K scene parsing, 150 classes; label 0 ("other") is ignored through ``reduce_zero_label``.

    Layout of the official ``ADEChallengeData2016.zip`` under ``data_root`` (e.g. ``data/ade/ADEChallengeData2016``):
    ``images/{training,validation}/*.jpg`` and ``annotations/{training,validation}/*.png`` (20210 / 2000 images);
    no list files are needed. ``tools/test.py --out`` writes 1-150 label PNGs, the benchmark's format.
    """

    METAINFO = dict(classes=ADE20K_CLASSES, palette=[list(c) for c in generate_palette(151)[1:]],
                    label_ids=tuple(range(1, 151)), output_format='label_ids')

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', reduce_zero_label: bool = True,
                 **kwargs) -> None:
        kwargs.setdefault('data_prefix', dict(img_path='images/training', seg_map_path='annotations/training'))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label,
                         **kwargs)
