"""Colour-coded masks: the exact colour -> label table, datasets that read RGB masks directly, and the folder
converter (its colour census and its conversion)."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from segkit.datasets import CamVidDataset, FolderSegDataset
from segkit.datasets.colour_masks import ColourTable, colours_to_labels, count_colours
from segkit.datasets.transforms import DataFileError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
import colour_masks as converter  # noqa: E402

PALETTE = [[0, 0, 0], [255, 0, 0], [0, 128, 255]]  # class 0, 1, 2
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
# a 2 x 3 label map and its colour mask
LABELS = np.array([[0, 1, 2], [2, 2, 1]], np.uint8)


def rgb_of(labels: np.ndarray, palette=PALETTE) -> np.ndarray:
    return np.asarray(palette, np.uint8)[labels]


def write_rgb(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))  # OpenCV writes BGR


def write_sample(root: Path, name: str, rgb_mask: np.ndarray) -> None:
    image = np.full(rgb_mask.shape[:2] + (3,), 100, np.uint8)
    (root / 'img').mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / 'img' / f'{name}.png'), image)
    write_rgb(root / 'ann' / f'{name}.png', rgb_mask)


def folder_dataset(root: Path, **kwargs) -> FolderSegDataset:
    return FolderSegDataset(data_root=str(root), img_dir='img', ann_dir='ann', classes=('a', 'b', 'c'),
                            palette=PALETTE, img_suffix='.png', pipeline=LOAD, **kwargs)


def test_colour_table_maps_each_colour_to_its_label_exactly():
    table = ColourTable(PALETTE)
    labels, unknown = table.lookup(rgb_of(LABELS))
    assert labels.tolist() == [[0, 1, 2], [2, 2, 1]] and labels.dtype == np.uint8
    assert not unknown.any()
    odd = rgb_of(LABELS).copy()
    odd[0, 1] = (255, 0, 1)  # one unit off class 1's red: not class 1
    labels, unknown = table.lookup(odd)
    assert unknown.tolist() == [[False, True, False], [False, False, False]]
    assert ColourTable(PALETTE, values=[7, 300, 9]).lookup(rgb_of(LABELS))[0].tolist() == [[7, 300, 9], [9, 9, 300]]
    converted, unmatched = colours_to_labels(odd, PALETTE, other=77)
    assert converted.tolist() == [[0, 77, 2], [2, 2, 1]] and unmatched == 1
    assert count_colours(rgb_of(LABELS)) == [((0, 128, 255), 3), ((255, 0, 0), 2), ((0, 0, 0), 1)]


def test_colour_table_refuses_repeated_and_invalid_colours():
    with pytest.raises(ValueError, match=r'\[255, 0, 0\] is given twice \(entries 1 and 2\)'):
        ColourTable([[0, 0, 0], [255, 0, 0], [255, 0, 0]])
    with pytest.raises(ValueError, match='0..255'):
        ColourTable([[0, 0, 256]])


def test_dataset_reads_colour_masks_through_its_palette(tmp_path):
    write_sample(tmp_path, 'x', rgb_of(LABELS))
    ds = folder_dataset(tmp_path, colour_masks=True)
    assert ds[0]['gt_seg_map'].tolist() == LABELS.tolist()
    # a list of colours gives raw label order explicitly: here the reverse of the palette
    reverse = folder_dataset(tmp_path, colour_masks=PALETTE[::-1])
    assert reverse[0]['gt_seg_map'].tolist() == (2 - LABELS).tolist()


def test_unknown_colour_is_named_with_its_pixel_count_or_ignored(tmp_path):
    rgb = rgb_of(LABELS).copy()
    rgb[1, :2] = (9, 9, 9)
    write_sample(tmp_path, 'odd', rgb)
    with pytest.raises(ValueError, match=r"odd.png holds colours outside the palette \(\[9, 9, 9\]: 2 pixels\).*"
                                         r"unknown_colour='ignore'"):
        folder_dataset(tmp_path, colour_masks=True)[0]
    ignored = folder_dataset(tmp_path, colour_masks=True, unknown_colour='ignore', ignore_index=200)[0]
    assert ignored['gt_seg_map'].tolist() == [[0, 1, 2], [200, 200, 1]]
    with pytest.raises(ValueError, match="unknown_colour='skip'"):
        folder_dataset(tmp_path, colour_masks=True, unknown_colour='skip')


def test_colour_masks_without_palette_or_with_grey_masks_are_errors(tmp_path):
    write_sample(tmp_path, 'x', rgb_of(LABELS))
    with pytest.raises(ValueError, match='colour_masks=True reads mask colours through the palette, but none'):
        FolderSegDataset(data_root=str(tmp_path), img_dir='img', ann_dir='ann', classes=('a', 'b', 'c'),
                         img_suffix='.png', colour_masks=True)
    with pytest.raises(DataFileError, match=r'x.png has 3 channels: a colour-coded mask.*colour_masks=True.*'
                                            r'colour_masks.py'):
        folder_dataset(tmp_path)[0]
    cv2.imwrite(str(tmp_path / 'ann' / 'x.png'), LABELS)
    with pytest.raises(DataFileError, match='is single-channel but the dataset reads colour masks'):
        folder_dataset(tmp_path, colour_masks=True)[0]


def test_camvid_colour_masks_use_its_palette_then_its_label_map(tmp_path):
    palette = CamVidDataset.METAINFO['palette']
    labels = np.array([[0, 3, 8, 10]], np.uint8)
    root = tmp_path / 'camvid'
    write_rgb(root / 'trainannot' / 'f.png', rgb_of(labels, palette))
    (root / 'train').mkdir()
    cv2.imwrite(str(root / 'train' / 'f.png'), np.zeros((1, 4, 3), np.uint8))
    (root / 'train.txt').write_text('f\n')
    ds = CamVidDataset(data_root=str(root), colour_masks=True, pipeline=LOAD)
    assert ds[0]['gt_seg_map'].tolist() == [[0, 3, 8, 10]]
    # a class subset: the other classes' colours become the ignore index through the subset's label map
    sub = CamVidDataset(data_root=str(root), colour_masks=True, pipeline=LOAD,
                        metainfo=dict(classes=('Road', 'Car')))
    assert sub[0]['gt_seg_map'].tolist() == [[255, 0, 1, 255]]
    # void (black, no CamVid class) as the 12th colour: raw label 11, which CamVid ignores
    void = CamVidDataset(data_root=str(root), colour_masks=palette + [[0, 0, 0]], pipeline=LOAD)
    write_rgb(root / 'trainannot' / 'f.png', np.array([[[0, 0, 0], palette[3], palette[8], [0, 0, 0]]], np.uint8))
    assert void[0]['gt_seg_map'].tolist() == [[255, 3, 8, 255]]


def test_converter_finds_colours_with_their_shares(tmp_path, capsys):
    write_rgb(tmp_path / 'm' / 'a.png', rgb_of(LABELS))
    write_rgb(tmp_path / 'm' / 'sub' / 'b.png', rgb_of(np.zeros((2, 3), np.uint8)))
    found = converter.main([str(tmp_path / 'm'), '--find'])
    assert dict(found['pixels']) == {0: 7, 0xFF0000: 2, 0x0080FF: 3}
    assert dict(found['images']) == {0: 2, 0xFF0000: 1, 0x0080FF: 1}
    out = capsys.readouterr().out
    assert '3 distinct colours in 2 masks (12 pixels)' in out
    assert '[0, 0, 0]' in out and '58.333' in out and '25.000' in out and '16.667' in out
    assert 'palette=[[0, 0, 0], [0, 128, 255], [255, 0, 0]]' in out


def test_converter_writes_exact_indices_and_names_unknown_colours(tmp_path):
    write_rgb(tmp_path / 'm' / 'a.png', rgb_of(LABELS))
    result = converter.main([str(tmp_path / 'm'), '-o', str(tmp_path / 'out'), '--palette', str(PALETTE),
                             '--nproc', '2'])
    assert result['unknown_pixels'] == 0
    assert cv2.imread(str(tmp_path / 'out' / 'a.png'), cv2.IMREAD_UNCHANGED).tolist() == LABELS.tolist()
    rgb = rgb_of(LABELS).copy()
    rgb[0, 0] = (1, 2, 3)
    write_rgb(tmp_path / 'm' / 'a.png', rgb)
    with pytest.raises(ValueError, match=r'a.png holds colours outside the palette \(\[1, 2, 3\]: 1 pixels\)'):
        converter.main([str(tmp_path / 'm'), '-o', str(tmp_path / 'out'), '--palette', str(PALETTE)])
    converter.main([str(tmp_path / 'm'), '-o', str(tmp_path / 'out'), '--palette', str(PALETTE), '--unknown',
                    'ignore'])
    assert cv2.imread(str(tmp_path / 'out' / 'a.png'), cv2.IMREAD_UNCHANGED)[0].tolist() == [255, 1, 2]


def test_converter_takes_the_palette_of_a_config(tmp_path):
    write_sample(tmp_path, 'a', rgb_of(LABELS))
    config = tmp_path / 'cfg.py'
    config.write_text(f"train_dataloader = dict(dataset=dict(type='FolderSegDataset', data_root={str(tmp_path)!r}, "
                      f"img_dir='img', ann_dir='ann', img_suffix='.png', classes=('a', 'b', 'c'), "
                      f"palette={PALETTE[::-1]}, colour_masks=True))\n")
    converter.main([str(tmp_path / 'ann'), '-o', str(tmp_path / 'out'), '--config', str(config)])
    assert cv2.imread(str(tmp_path / 'out' / 'a.png'), cv2.IMREAD_UNCHANGED).tolist() == (2 - LABELS).tolist()


def test_opaque_rgba_masks_read_and_transparent_ones_are_refused(tmp_path):
    rgba = np.concatenate([rgb_of(LABELS), np.full(LABELS.shape + (1, ), 255, np.uint8)], axis=-1)
    write_sample(tmp_path, 'x', rgb_of(LABELS))
    cv2.imwrite(str(tmp_path / 'ann' / 'x.png'), np.ascontiguousarray(rgba[..., [2, 1, 0, 3]]))  # BGRA
    assert folder_dataset(tmp_path, colour_masks=True)[0]['gt_seg_map'].tolist() == LABELS.tolist()
    rgba[0, 0, 3] = 0
    cv2.imwrite(str(tmp_path / 'ann' / 'x.png'), np.ascontiguousarray(rgba[..., [2, 1, 0, 3]]))
    with pytest.raises(DataFileError, match=r'x.png has an alpha channel with transparent pixels \(1 of them\)'):
        folder_dataset(tmp_path, colour_masks=True)[0]
