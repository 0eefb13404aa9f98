"""tools/dataset_converters/pascal_context.py on a constructed tree laid out as the official downloads (VOC 2010's
VOCdevkit and PASCAL-Context's trainval.tar.gz), then read by the PASCAL-Context config's datasets."""
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from segkit.datasets import PascalContextDataset59
from segkit.datasets.pascal_context import PASCAL_CONTEXT59_CLASSES
from segkit.registry import DATASETS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
savemat = pytest.importorskip('scipy.io').savemat

# ids of the 459-class labels.txt: five of the 59 classes at their official ids, and classes outside the 59
OFFICIAL = {2: 'aeroplane', 9: 'bag', 65: 'cat', 284: 'person', 360: 'sky', 427: 'tvmonitor', 440: 'wall',
            458: 'wood', 1: 'accordion', 100: 'crane', 459: 'zebra'}
LABEL_MAPS = {  # full-set ids; 0 is unlabelled, 7 is not in labels.txt
    '2008_000002': np.array([[0, 1, 2, 2], [284, 284, 9, 458], [440, 100, 459, 7]], np.uint16),
    '2008_000003': np.array([[1, 1], [1, 1]], np.uint16),
    '2008_000008': np.array([[360, 360, 360], [65, 427, 0], [100, 65, 284], [458, 458, 2]], np.uint16),
}
EXPECTED = {  # 1-59 in PASCAL_CONTEXT59_CLASSES order (aeroplane 1, bag 2, cat 15, person 37, sky 47, ...), 0 other
    '2008_000002': [[0, 0, 1, 1], [37, 37, 2, 59], [56, 0, 0, 0]],
    '2008_000003': [[0, 0], [0, 0]],
    '2008_000008': [[47, 47, 47], [15, 55, 0], [0, 15, 37], [59, 59, 1]],
}
SPLITS = dict(train=['2008_000002', '2008_000003'], val=['2008_000008'])


def write_labels_txt(path: Path, drop: str = '') -> None:
    labels = dict(OFFICIAL)
    spare = iter(range(1000, 2000))  # the other 51 classes at ids no LabelMap uses
    labels.update({next(spare): name for name in PASCAL_CONTEXT59_CLASSES if name not in OFFICIAL.values()})
    path.write_text(''.join(f'{i}: {name}\n' for i, name in sorted(labels.items()) if name != drop))


def official_tree(root: Path):
    voc, context = root / 'VOCdevkit' / 'VOC2010', root / 'pascal_context'
    (voc / 'JPEGImages').mkdir(parents=True)
    (voc / 'ImageSets' / 'Main').mkdir(parents=True)
    (context / 'trainval').mkdir(parents=True)
    for name, label_map in LABEL_MAPS.items():
        Image.new('RGB', label_map.shape[::-1], (90, 120, 150)).save(voc / 'JPEGImages' / f'{name}.jpg')
        savemat(str(context / 'trainval' / f'{name}.mat'), {'LabelMap': label_map})
    savemat(str(context / 'trainval' / '2008_000099.mat'), {'LabelMap': np.zeros((2, 2), np.uint16)})  # unlisted
    for split, names in SPLITS.items():
        (voc / 'ImageSets' / 'Main' / f'{split}.txt').write_text(''.join(n + '\n' for n in names))
    write_labels_txt(context / 'labels.txt')
    return voc, context


def config_dataset(loader: str, data_root: Path) -> dict:
    cfg = Config.fromfile(str(REPO / 'configs/deeplabv3plus/r101_480x480_pascal_context59.py'))[loader].dataset
    return dict(cfg, data_root=str(data_root), pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])


@pytest.mark.parametrize('nproc', [1, 2])
def test_pascal_context_converter_writes_59_class_labels_and_splits(tmp_path, nproc):
    voc, context = official_tree(tmp_path)
    import pascal_context
    splits = pascal_context.main([str(tmp_path / 'VOCdevkit'), str(context), '--nproc', str(nproc)])
    assert splits == SPLITS
    for split, names in SPLITS.items():
        assert (voc / 'ImageSets' / 'SegmentationContext' / f'{split}.txt').read_text().split() == names
    written = sorted(p.stem for p in (voc / 'SegmentationClassContext').iterdir())
    assert written == sorted(LABEL_MAPS)  # the unlisted .mat is not converted
    for name, expected in EXPECTED.items():
        png = Image.open(voc / 'SegmentationClassContext' / f'{name}.png')
        assert png.mode == 'L' and np.array(png).tolist() == expected

    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val')):
        ds = DATASETS.build(config_dataset(loader, voc))
        assert isinstance(ds, PascalContextDataset59) and len(ds) == len(SPLITS[split])
        for i, name in enumerate(SPLITS[split]):
            sample = ds[i]
            assert Path(sample['img_path']).name == f'{name}.jpg'
            reduced = [[v - 1 if v else 255 for v in row] for row in EXPECTED[name]]  # reduce_zero_label
            assert sample['gt_seg_map'].tolist() == reduced
    assert ds[0]['gt_seg_map'].tolist()[0] == [46, 46, 46]  # sky
    assert ds.metainfo['classes'][46] == 'sky'


def test_pascal_context_converter_names_bad_inputs(tmp_path):
    voc, context = official_tree(tmp_path)
    import pascal_context
    args = [str(tmp_path / 'VOCdevkit'), str(context)]
    write_labels_txt(context / 'labels.txt', drop='wood')
    with pytest.raises(KeyError, match=r"labels.txt lacks the class names \['wood'\]"):
        pascal_context.main(args)
    write_labels_txt(context / 'labels.txt')

    savemat(str(context / 'trainval' / '2008_000003.mat'), {'Labels': np.zeros((2, 2), np.uint16)})
    with pytest.raises(KeyError, match=r'2008_000003.mat has no LabelMap \(keys: \[.Labels.\]\)'):
        pascal_context.main(args)
    savemat(str(context / 'trainval' / '2008_000003.mat'), {'LabelMap': np.zeros((3, 2), np.uint16)})
    with pytest.raises(ValueError, match=r'2008_000003.mat: LabelMap is 3x2 but .*2008_000003.jpg is 2x2'):
        pascal_context.main(args)
    (voc / 'JPEGImages' / '2008_000003.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r'1 of 3 listed images have no VOC 2010 image in .*: 2008_000003.jpg'):
        pascal_context.main(args)
    (context / 'trainval' / '2008_000008.mat').unlink()
    with pytest.raises(FileNotFoundError, match=r'no PASCAL-Context label file in .*trainval: 2008_000008.mat'):
        pascal_context.main(args)
