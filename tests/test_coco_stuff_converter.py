"""tools/dataset_converters/coco_stuff.py on tiny copies of the official downloads: 164k's stuffthingmaps and COCO
image zips, 10k's cocostuff-10k-v1.1.zip with .mat label maps; known ids mapped as MMSegmentation's tables map them."""
import io
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from archive_builders import encoded, random_image, read, write_zip
from segkit.registry import DATASETS

import coco_stuff  # noqa: E402 (tools/dataset_converters, put on the path by archive_builders)

savemat = pytest.importorskip('scipy.io').savemat
REPO = Path(__file__).resolve().parents[1]
# 164k stuffthingmaps ids -> classes, from MMSegmentation's coco_stuff164k.py table: 11 and 90 are unused thing ids
RAW_164K = np.array([[0, 11, 12, 181], [255, 90, 91, 40]], np.uint8)
CLASSES_164K = [[0, 255, 11, 170], [255, 255, 80, 36]]
# 10k .mat ids (1-based, 0 unlabelled) -> 1 + class, from MMSegmentation's coco_stuff10k.py table: 12, 91 unused
RAW_10K = np.array([[0, 1, 12], [13, 182, 92]], np.uint16)
CLASSES_10K = [[0, 1, 0], [12, 171, 81]]


def test_164k_label_maps_and_images(tmp_path, capsys):
    dl, out = tmp_path / 'dl', tmp_path / 'coco_stuff164k'
    images = {split: encoded(random_image(2, 4, i), '.jpg') for i, split in enumerate(('train2017', 'val2017'))}
    write_zip(dl / 'stuffthingmaps_trainval2017.zip', {'train2017/000000000009.png': encoded(RAW_164K, '.png'),
                                                       'val2017/000000000139.png': encoded(RAW_164K[::-1], '.png')})
    write_zip(dl / 'train2017.zip', {'train2017/000000000009.jpg': images['train2017']})
    write_zip(dl / 'val2017.zip', {'val2017/000000000139.jpg': images['val2017']})
    assert coco_stuff.main([str(dl), '-o', str(out), '--nproc', '2']) == 2
    assert 'the full COCO-Stuff 164k has 123287 label maps, this download 2' in capsys.readouterr().err
    assert read(out / 'annotations/train2017/000000000009_labelTrainIds.png').tolist() == CLASSES_164K
    assert read(out / 'annotations/val2017/000000000139_labelTrainIds.png').tolist() == CLASSES_164K[::-1]
    assert (out / 'images/val2017/000000000139.jpg').read_bytes() == images['val2017']
    assert sorted(p.name for p in (out / 'annotations' / 'train2017').iterdir()) == [
        '000000000009_labelTrainIds.png']

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/coco-stuff164k.py')).train_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=cfg.pipeline[:2]))
    assert len(dataset) == 1 and dataset[0]['gt_seg_map'].tolist() == CLASSES_164K
    assert dataset.metainfo['classes'][11] == 'stop sign' and dataset.metainfo['classes'][170] == 'wood'

    (dl / 'val2017.zip').unlink()  # images already extracted: the image zips are not needed again
    assert coco_stuff.main([str(dl), '-o', str(out)]) == 2


def mat_bytes(**fields) -> bytes:
    buffer = io.BytesIO()
    savemat(buffer, fields)
    return buffer.getvalue()


def cocostuff_10k(path: Path, mat_fields: dict) -> dict:
    names = dict(train=['COCO_train2014_000000000077'], test=['COCO_val2014_000000000139'])
    images = {n: encoded(random_image(2, 3, i), '.jpg') for i, n in enumerate(sum(names.values(), []))}
    members = {f'imageLists/{split}.txt': ''.join(n + '\n' for n in ns).encode() for split, ns in names.items()}
    members['imageLists/all.txt'] = b''
    for name, image in images.items():
        members[f'images/{name}.jpg'] = image
        members[f'annotations/{name}.mat'] = mat_bytes(**mat_fields)
    write_zip(path, members)
    return images


def test_10k_label_maps_images_and_lists(tmp_path):
    dl, out = tmp_path / 'dl', tmp_path / 'coco_stuff10k'
    images = cocostuff_10k(dl / 'cocostuff-10k-v1.1.zip', dict(S=RAW_10K, names=np.array(['x'], object)))
    assert coco_stuff.main([str(dl), '-o', str(out)]) == 2  # the release of the archive present
    for split, name in (('train2014', 'COCO_train2014_000000000077'), ('test2014', 'COCO_val2014_000000000139')):
        assert read(out / 'annotations' / split / f'{name}_labelTrainIds.png').tolist() == CLASSES_10K
        assert (out / 'images' / split / f'{name}.jpg').read_bytes() == images[name]

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/coco-stuff10k.py')).val_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=[cfg.pipeline[0], cfg.pipeline[2]]))
    assert len(dataset) == 1 and dataset[0]['gt_seg_map'].tolist() == [[255, 0, 255], [11, 170, 80]]


def test_bad_downloads_are_named(tmp_path):
    dl = tmp_path / 'dl'
    args = [str(dl), '-o', str(tmp_path / 'out')]
    dl.mkdir()
    with pytest.raises(FileNotFoundError, match=r'dl holds neither of stuffthingmaps_trainval2017.zip \(COCO-Stuff '
                                                r'164k\) and cocostuff-10k-v1.1.zip \(COCO-Stuff 10k\)'):
        coco_stuff.main(args)
    cocostuff_10k(dl / 'cocostuff-10k-v1.1.zip', dict(Labels=RAW_10K))
    with pytest.raises(KeyError, match=r'annotations/COCO_\w+.mat has no label map S \(keys: \[.Labels.\]\)'):
        coco_stuff.main(args)
    write_zip(dl / 'cocostuff-10k-v1.1.zip', {'imageLists/train.txt': b'a\n', 'imageLists/test.txt': b''})
    with pytest.raises(FileNotFoundError, match=r'lists a in imageLists/train.txt but has no images/a.jpg or '
                                                r'annotations/a.mat'):
        coco_stuff.main(args)
    with pytest.raises(FileNotFoundError, match=r"stuffthingmaps_trainval2017.zip is not in .*dl: it is COCO-Stuff "
                                                r"164k's label maps"):
        coco_stuff.main(args + ['--release', '164k'])
    write_zip(dl / 'stuffthingmaps_trainval2017.zip', {'train2017/1.png': encoded(RAW_164K, '.png'),
                                                       'val2017/2.png': encoded(RAW_164K, '.png')})
    with pytest.raises(ValueError, match=r'holds both .*; choose one with --release 164k or --release 10k'):
        coco_stuff.main(args)
    with pytest.raises(FileNotFoundError, match=r'train2017.zip is not in .*dl: it is the COCO train2017 images'):
        coco_stuff.main(args + ['--release', '164k'])
