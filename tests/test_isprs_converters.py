"""tools/dataset_converters/potsdam.py and vaihingen.py on tiny zips with the official member names: exact tiles,
label indices of each ISPRS colour, splits, and the datasets reading the result through segkit's configs."""
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from archive_builders import encoded, random_image, read, rgb_encoded, write_zip
from segkit.registry import DATASETS

import potsdam  # noqa: E402 (tools/dataset_converters, put on the path by archive_builders)
import vaihingen  # noqa: E402
from isprs import LABEL_COLOURS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
H, W = 10, 13  # with tiles of 8: columns start at 0 and 5 (flush), rows at 0 and 2
OFF_COLOUR = (10, 20, 30)


def colour_labels(seed: int):
    """An RGB label image using every colour of the ISPRS table and one colour outside it; the indices expected."""
    expected = (np.add.outer(np.arange(H), np.arange(W)) + seed) % len(LABEL_COLOURS)
    rgb = np.array(LABEL_COLOURS, np.uint8)[expected]
    rgb[H - 1, W - 1] = OFF_COLOUR
    expected[H - 1, W - 1] = 0
    return rgb, expected.astype(np.uint8)


def potsdam_downloads(root: Path, tiles=('2_10', '2_13', '9_9'), label_tiles=None, eroded=True) -> dict:
    """2_10 is in the train split, 2_13 in val, 9_9 in neither; the data expected of each."""
    data = {t: (random_image(H, W, i), *colour_labels(i)) for i, t in enumerate(tiles)}
    write_zip(root / '2_Ortho_RGB.zip', {f'2_Ortho_RGB/top_potsdam_{t}_RGB.tif': encoded(img, '.tif')
                                         for t, (img, _, _) in data.items()})
    member = '5_Labels_all_noBoundary/top_potsdam_{}_label_noBoundary.tif' if eroded else 'top_potsdam_{}_label.tif'
    write_zip(root / ('5_Labels_all_noBoundary.zip' if eroded else '5_Labels_all.zip'), {
        member.format(t): rgb_encoded(data[t][1], '.tif') for t in (tiles if label_tiles is None else label_tiles)})
    return data


TILES = [(0, 0, 8, 8), (5, 0, 13, 8), (0, 2, 8, 10), (5, 2, 13, 10)]


def check_tiles(out: Path, split: str, prefix: str, image: np.ndarray, expected: np.ndarray) -> None:
    for x0, y0, x1, y1 in TILES:
        name = f'{prefix}_{x0}_{y0}_{x1}_{y1}.png'
        assert (read(out / 'img_dir' / split / name) == image[y0:y1, x0:x1]).all()
        assert read(out / 'ann_dir' / split / name).tolist() == expected[y0:y1, x0:x1].tolist()


@pytest.mark.parametrize('nproc', [1, 2])
def test_potsdam_tiles_splits_and_label_indices(tmp_path, capsys, nproc):
    data = potsdam_downloads(tmp_path / 'dl')
    out = tmp_path / 'potsdam'
    counts = potsdam.main([str(tmp_path / 'dl'), '-o', str(out), '--tile-size', '8', '--nproc', str(nproc)])
    assert counts == dict(train=4, val=4)
    for split, tile in (('train', '2_10'), ('val', '2_13')):
        assert sorted(p.name for p in (out / 'ann_dir' / split).iterdir()) == sorted(
            f'{tile}_{x0}_{y0}_{x1}_{y1}.png' for x0, y0, x1, y1 in TILES)
        check_tiles(out, split, tile, data[tile][0], data[tile][2])
    err = capsys.readouterr().err
    assert 'in neither split and are skipped: 9_9' in err
    assert 'top_potsdam_2_10_label_noBoundary.tif: 1 pixels of colours outside the ISPRS table became 0' in err

    # white 1, blue 2, cyan 3, green 4, yellow 5, red 6 -> classes 0-5 of PotsdamDataset, black (boundary) ignored
    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/potsdam.py')).train_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=cfg.pipeline[:2]))
    assert len(dataset) == 4
    sample = dataset[0]  # 2_10_0_0_8_8.png
    raw = data['2_10'][2][:8, :8].astype(int)
    assert sample['gt_seg_map'].tolist() == np.where(raw == 0, 255, raw - 1).tolist()
    palette = dataset.metainfo['palette']
    assert [palette[i] for i in range(6)] == [list(c) for c in LABEL_COLOURS[1:]]


def test_potsdam_overlapping_stride_and_full_labels(tmp_path):
    data = potsdam_downloads(tmp_path / 'dl', tiles=('2_10',), eroded=False)
    out = tmp_path / 'potsdam'
    counts = potsdam.main([str(tmp_path / 'dl'), '-o', str(out), '--tile-size', '8', '--stride', '4',
                           '--labels', 'all'])
    assert counts == dict(train=6, val=0)  # columns 0, 4, 5; rows 0, 2
    names = sorted(p.name for p in (out / 'ann_dir' / 'train').iterdir())
    assert names == sorted(f'2_10_{x}_{y}_{x + 8}_{y + 8}.png' for x in (0, 4, 5) for y in (0, 2))
    assert read(out / 'ann_dir' / 'train' / '2_10_4_2_12_10.png').tolist() == data['2_10'][2][2:10, 4:12].tolist()


def test_potsdam_bad_downloads_are_named(tmp_path):
    dl = tmp_path / 'dl'
    potsdam_downloads(dl, label_tiles=('2_10',))
    args = [str(dl), '-o', str(tmp_path / 'out'), '--tile-size', '8']
    with pytest.raises(FileNotFoundError, match=r'5_Labels_all_noBoundary.zip has no labels for the orthophotos '
                                                r'2_13 of .*2_Ortho_RGB.zip'):
        potsdam.main(args)
    with pytest.raises(FileNotFoundError, match=r'5_Labels_all.zip is not in .*dl: it is the Potsdam labels chosen by '
                                                r'--labels all \(the other choice reads 5_Labels_all_noBoundary.zip\)'):
        potsdam.main(args + ['--labels', 'all'])
    (dl / '2_Ortho_RGB.zip').write_bytes(b'not a zip')
    with pytest.raises(zipfile.BadZipFile, match=r'2_Ortho_RGB.zip is not a readable zip archive'):
        potsdam.main(args)
    write_zip(dl / '2_Ortho_RGB.zip', {'top_potsdam_2_10_RGB.tif': encoded(random_image(H, W + 1, 0), '.tif')})
    with pytest.raises(ValueError, match=r'top_potsdam_2_10_RGB.tif is 10x14 but its labels .*'
                                         r'top_potsdam_2_10_label_noBoundary.tif are 10x13'):
        potsdam.main(args)


def test_vaihingen_takes_top_images_eroded_labels_and_its_split(tmp_path):
    dl, out = tmp_path / 'dl', tmp_path / 'vaihingen'
    data = {area: (random_image(H, W, i), *colour_labels(i)) for i, area in enumerate(('area1', 'area6'))}
    write_zip(dl / 'ISPRS_semantic_labeling_Vaihingen.zip', {
        **{f'top/top_mosaic_09cm_{a}.tif': encoded(img, '.tif') for a, (img, _, _) in data.items()},
        'gts_for_participants/top_mosaic_09cm_area1.tif': rgb_encoded(data['area1'][1], '.tif'),  # not an image
        'dsm/dsm_09cm_matching_area1.tif': encoded(np.zeros((H, W), np.uint8), '.tif')})
    labels = {f'top_mosaic_09cm_{a}_noBoundary.tif': rgb_encoded(rgb, '.tif') for a, (_, rgb, _) in data.items()}
    labels['top_mosaic_09cm_area9_noBoundary.tif'] = rgb_encoded(colour_labels(9)[0], '.tif')  # no image: unused
    write_zip(dl / 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip', labels)
    assert vaihingen.main([str(dl), '-o', str(out), '--tile-size', '8']) == dict(train=4, val=4)
    check_tiles(out, 'train', 'area1', data['area1'][0], data['area1'][2])
    check_tiles(out, 'val', 'area6', data['area6'][0], data['area6'][2])

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/vaihingen.py')).val_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=[cfg.pipeline[0], cfg.pipeline[2]]))
    assert type(dataset).__name__ == 'ISPRSDataset' and len(dataset) == 4
    raw = data['area6'][2][:8, :8].astype(int)
    assert dataset[0]['gt_seg_map'].tolist() == np.where(raw == 0, 255, raw - 1).tolist()
