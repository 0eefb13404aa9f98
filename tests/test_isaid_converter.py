"""tools/dataset_converters/isaid.py on tiny zips laid out as MMSegmentation's guide lays out the iSAID downloads:
exact patches and names, mask colours to indices, padding of small images, the test split, clear errors."""
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from archive_builders import encoded, random_image, read, rgb_encoded, write_zip
from segkit.datasets.isaid import ISAID_PALETTE
from segkit.registry import DATASETS

import isaid  # noqa: E402 (tools/dataset_converters, put on the path by archive_builders)

REPO = Path(__file__).resolve().parents[1]
ARGS = ['--patch-size', '8', '--overlap', '3']  # MMSeg's 896 / 384 scaled down: patches every 5 pixels


def mask(height: int, width: int, seed: int):
    """A colour mask using iSAID's colours (one pixel of another colour); the indices expected."""
    expected = (np.add.outer(np.arange(height), np.arange(width)) + seed) % len(ISAID_PALETTE)
    rgb = np.array(ISAID_PALETTE, np.uint8)[expected]
    rgb[0, 0], expected[0, 0] = (1, 2, 3), 0
    return rgb, expected.astype(np.uint8)


def isaid_downloads(root: Path) -> dict:
    """train: P0001 (10x19) in part1.zip, P0002 (5x6, smaller than a patch) in part2.zip; val: P0003; test: P0004."""
    sizes = dict(P0001=(10, 19), P0002=(5, 6), P0003=(8, 9))
    data = {key: (random_image(*size, i), *mask(*size, i)) for i, (key, size) in enumerate(sizes.items())}
    for split, parts in (('train', (['P0001'], ['P0002'])), ('val', (['P0003'],))):
        for number, keys in enumerate(parts, 1):
            write_zip(root / split / 'images' / f'part{number}.zip',
                      {f'images/{k}.png': encoded(data[k][0], '.png') for k in keys})
        write_zip(root / split / 'Semantic_masks' / 'images.zip',
                  {f'images/{k}_instance_color_RGB.png': rgb_encoded(data[k][1], '.png')
                   for keys in parts for k in keys})
    data['P0004'] = encoded(random_image(4, 4, 9), '.png')
    write_zip(root / 'test' / 'images' / 'part1.zip', {'images/P0004.png': data['P0004']})
    return data


def test_isaid_patches_masks_and_padding(tmp_path):
    data = isaid_downloads(tmp_path / 'iSAID')
    out = tmp_path / 'out'
    assert isaid.main([str(tmp_path / 'iSAID'), '-o', str(out), '--nproc', '2'] + ARGS) == dict(train=9, val=2, test=1)
    # P0001 10x19: columns 0, 5, 10, 11 (flush), rows 0, 2 (flush); P0002 padded to 8x8; P0003 8x9: columns 0, 1
    boxes = dict(P0001=[(x, y) for y in (0, 2) for x in (0, 5, 10, 11)], P0002=[(0, 0)], P0003=[(0, 0), (1, 0)])
    for split, keys in (('train', ['P0001', 'P0002']), ('val', ['P0003'])):
        names = [f'{k}_{y}_{y + 8}_{x}_{x + 8}' for k in keys for x, y in boxes[k]]
        assert sorted(p.name for p in (out / 'img_dir' / split).iterdir()) == sorted(n + '.png' for n in names)
        assert sorted(p.name for p in (out / 'ann_dir' / split).iterdir()) == sorted(
            n + '_instance_color_RGB.png' for n in names)
    image, _, labels = data['P0001']
    name = 'P0001_2_10_11_19'
    assert (read(out / 'img_dir' / 'train' / f'{name}.png') == image[2:10, 11:19]).all()
    assert read(out / 'ann_dir' / 'train' / f'{name}_instance_color_RGB.png').tolist() == labels[2:10, 11:19].tolist()
    image, _, labels = data['P0002']
    padded_image, padded_labels = read(out / 'img_dir' / 'train' / 'P0002_0_8_0_8.png'), read(
        out / 'ann_dir' / 'train' / 'P0002_0_8_0_8_instance_color_RGB.png')
    assert (padded_image[:5, :6] == image).all() and not padded_image[5:].any() and not padded_image[:, 6:].any()
    assert (padded_labels[:5, :6] == labels).all() and (padded_labels[5:] == 255).all()
    assert (out / 'img_dir' / 'test' / 'P0004.png').read_bytes() == data['P0004']  # copied whole

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/isaid.py')).train_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=cfg.pipeline[:2]))
    assert len(dataset) == 9
    assert dataset[8]['gt_seg_map'].tolist() == padded_labels.tolist()  # P0002: 0-15, 255 ignored


def test_isaid_bad_downloads_are_named(tmp_path):
    root = tmp_path / 'iSAID'
    isaid_downloads(root)
    args = [str(root), '-o', str(tmp_path / 'out')] + ARGS
    with pytest.raises(SystemExit):  # argparse: --overlap must be below --patch-size
        isaid.main([str(root), '--patch-size', '8', '--overlap', '8'])
    with zipfile.ZipFile(root / 'val' / 'Semantic_masks' / 'images.zip', 'w'):
        pass  # no masks
    with pytest.raises(FileNotFoundError, match=r'1 val images have no \*_instance_color_RGB.png mask in .*'
                                                r'Semantic_masks: P0003'):
        isaid.main(args)
    (root / 'val' / 'Semantic_masks' / 'images.zip').unlink()
    with pytest.raises(FileNotFoundError, match=r"no zip in .*val/Semantic_masks: put iSAID's val semantic masks "
                                                r'\(images.zip\) there unextracted'):
        isaid.main(args)
    write_zip(root / 'train' / 'images' / 'part3.zip', {'images/P0001.png': b''})
    with pytest.raises(ValueError, match=r'P0001 is in both .*part1.zip and .*part3.zip'):
        isaid.main(args)
