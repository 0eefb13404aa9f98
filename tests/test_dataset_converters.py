"""tools/dataset_converters on constructed files laid out as the official downloads."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segkit.datasets.cityscapes import CITYSCAPES_LABELS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))


def voc_png(path: Path, labels: np.ndarray) -> None:
    """A VOC-style palette PNG (pixel values are class indices, the colour table VOC's)."""
    from segkit.visualization.palette import generate_palette
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(labels.astype(np.uint8)).convert('P')
    image.putpalette([c for color in generate_palette(256) for c in color])
    image.save(path)


def write_list(path: Path, names) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(n + '\n' for n in names))


def test_voc_aug_merges_sbd_and_voc_labels_and_lists_trainaug(tmp_path):
    savemat = pytest.importorskip('scipy.io').savemat
    sbd = tmp_path / 'benchmark_RELEASE' / 'dataset'
    voc = tmp_path / 'VOCdevkit' / 'VOC2012'
    (sbd / 'cls').mkdir(parents=True)
    sbd_labels = {name: np.full((3, 4), value, np.uint8) for value, name in enumerate('abcd', start=1)}
    for name, labels in sbd_labels.items():  # SBD's GTcls struct: Boundaries, Segmentation, CategoriesPresent
        savemat(str(sbd / 'cls' / f'{name}.mat'), {'GTcls': {
            'Boundaries': np.empty((1, 0), object), 'Segmentation': labels,
            'CategoriesPresent': np.array([labels[0, 0]], np.uint8)}})
    write_list(sbd / 'train.txt', ['a', 'b', 'c'])
    write_list(sbd / 'val.txt', ['d'])
    voc_labels = {'b': np.array([[15] * 4, [255] * 4, [0] * 4]), 'c': np.full((3, 4), 7), 'e': np.full((3, 4), 20)}
    for name, labels in voc_labels.items():
        voc_png(voc / 'SegmentationClass' / f'{name}.png', labels)
    write_list(voc / 'ImageSets/Segmentation/train.txt', ['b', 'e'])
    write_list(voc / 'ImageSets/Segmentation/val.txt', ['c'])

    import voc_aug
    trainaug = voc_aug.main([str(tmp_path / 'VOCdevkit'), str(tmp_path / 'benchmark_RELEASE')])
    # SBD train + val + VOC train, minus VOC val
    assert trainaug == ['a', 'b', 'd', 'e']
    assert (voc / 'ImageSets/Segmentation/aug.txt').read_text().split() == ['a', 'b', 'd', 'e']
    out = voc / 'SegmentationClassAug'

    def read(name):
        image = Image.open(out / f'{name}.png')
        assert image.mode == 'L'
        return np.array(image).tolist()
    assert read('a') == sbd_labels['a'].tolist() and read('d') == sbd_labels['d'].tolist()
    assert read('b') == voc_labels['b'].tolist()  # VOC's own labels, void outline included
    assert read('e') == voc_labels['e'].tolist()  # VOC train, not in SBD
    assert read('c') == voc_labels['c'].tolist()  # in SBD train, VOC val: labelled but not listed
    voc_aug.main([str(tmp_path / 'VOCdevkit'), str(sbd), '--prefer-sbd', '--nproc', '2'])
    assert read('b') == sbd_labels['b'].tolist()


def polygon_json(path: Path, objects, size=(8, 8)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'imgHeight': size[0], 'imgWidth': size[1], 'objects': objects}))


def box(label, x0, y0, x1, y1, **extra):
    return dict(label=label, polygon=[[x0, y0], [x1, y0], [x1, y1], [x0, y1]], **extra)


def test_cityscapes_polygons_to_train_ids(tmp_path):
    root = tmp_path / 'cityscapes'
    stem = root / 'gtFine' / 'train' / 'aachen' / 'aachen_000000_000019_gtFine'
    polygon_json(Path(f'{stem}_polygons.json'), [
        box('sky', 0, 0, 7, 3),                 # train id 10, rows 0-3
        box('road', 0, 4, 7, 7),                # train id 0, rows 4-7
        box('cargroup', 2, 5, 4, 6),            # a group label counts as its class: car, 13
        box('license plate', 3, 5, 3, 5),       # id -1: never drawn
        box('person', 0, 0, 7, 7, deleted=1),   # deleted objects are skipped
        box('parking', 6, 0, 7, 1),             # not evaluated: 255
    ])
    polygon_json(root / 'gtFine' / 'val' / 'lindau' / 'lindau_000000_000019_gtFine_polygons.json',
                 [box('bicycle', 1, 1, 2, 2)], size=(4, 4))
    import cityscapes
    cityscapes.main([str(root)])
    train_ids = np.array(Image.open(f'{stem}_labelTrainIds.png'))
    expected = np.zeros((8, 8), np.uint8)
    expected[:4] = 10
    expected[5:7, 2:5] = 13
    expected[0:2, 6:8] = 255
    assert train_ids.tolist() == expected.tolist()
    val = np.array(Image.open(root / 'gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png'))
    assert val.tolist() == [[255] * 4, [255, 18, 18, 255], [255, 18, 18, 255], [255] * 4]  # unlabelled: 255


def test_cityscapes_label_ids_to_train_ids_and_unknown_labels(tmp_path):
    root = tmp_path / 'cityscapes'
    stem = root / 'gtFine' / 'val' / 'bremen' / 'bremen_000000_000019_gtFine'
    label_ids = np.array([[label.label_id for label in CITYSCAPES_LABELS if label.label_id >= 0]], np.uint8)
    stem.parent.mkdir(parents=True)
    Image.fromarray(label_ids).save(f'{stem}_labelIds.png')
    import cityscapes
    cityscapes.main([str(root), '--source', 'labelIds'])
    train_ids = np.array(Image.open(f'{stem}_labelTrainIds.png'))[0].tolist()
    assert train_ids == [label.train_id for label in CITYSCAPES_LABELS if label.label_id >= 0]
    assert train_ids[7] == 0 and train_ids[26] == 13 and train_ids[33] == 18 and train_ids[0] == 255
    polygon_json(Path(f'{stem}_polygons.json'), [box('unicorn', 0, 0, 1, 1)])
    with pytest.raises(KeyError, match="unknown label 'unicorn' in .*bremen_000000_000019_gtFine_polygons.json"):
        cityscapes.main([str(root)])


def test_browse_dataset_draws_the_train_pipeline_output(tmp_path):
    sys.path.insert(0, str(REPO / 'tools' / 'misc'))
    import browse_dataset
    root = tmp_path / 'shapes'
    written = browse_dataset.main([
        str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py'), '--out', str(tmp_path / 'browse'), '--num', '2',
        '--cfg-options', f'train_dataloader.dataset.data_root={root}', 'train_dataloader.dataset.num_train=2',
        'train_dataloader.dataset.num_val=1', 'train_dataloader.dataset.img_size=64'])
    assert len(written) == 2
    panel = np.array(Image.open(written[0]))
    assert panel.shape == (96, 192, 3)  # the 96x96 crop of the train pipeline, then its overlay
    image, overlay = panel[:, :96].astype(int), panel[:, 96:].astype(int)
    from segkit.datasets.shapes_generator import SHAPE_PALETTE
    colours = np.array(SHAPE_PALETTE)  # RGB; the PNG is read back as RGB too
    distance = np.abs(2 * overlay - image - colours[:, None, None]).max(axis=-1)  # classes x H x W
    assert (distance.min(axis=0) <= 2).mean() > 0.99  # every pixel is half image, half a class colour
    assert len(np.unique(distance.argmin(axis=0))) >= 2  # background and at least one shape
