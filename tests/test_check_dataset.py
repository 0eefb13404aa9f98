"""The data doctor (tools/misc/check_dataset.py) on crafted datasets with known faults: each fault gets its
verdict and the config key to change; a sound dataset gets none, its counts and statistics exactly."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from tests.helpers import tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'misc'))
import check_dataset  # noqa: E402

CLASSES = ('background', 'road', 'car')
SIZE = (32, 40)


def index_mask(seed: int, classes: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, SIZE).astype(np.uint8)


def write_split(root: Path, split: str, masks, images=None, suffix='.png'):
    (root / 'img' / split).mkdir(parents=True, exist_ok=True)
    (root / 'ann' / split).mkdir(parents=True, exist_ok=True)
    for i, mask in enumerate(masks):
        image = np.full(SIZE + (3,), 10 * i, np.uint8) if images is None else images[i]
        if suffix == '.tif':
            tifffile.imwrite(root / 'img' / split / f'{i}.tif', image, photometric='minisblack', planarconfig='contig')
        else:
            cv2.imwrite(str(root / 'img' / split / f'{i}{suffix}'), image)
        if mask is not None:
            cv2.imwrite(str(root / 'ann' / split / f'{i}.png'), mask)


def write_config(root: Path, classes=CLASSES, dataset='', model='', pipeline="dict(type='LoadImageFromFile')",
                 suffix='.png') -> str:
    model_cfg = tiny_deeplabv3plus(num_classes=len(classes), aux=False)
    lines = [f'model = {model_cfg!r}', model,
             f"pipeline = [{pipeline}, dict(type='LoadAnnotations'), dict(type='PackSegInputs')]"]
    for split in ('train', 'val'):
        lines.append(f"{split}_dataloader = dict(dataset=dict(type='FolderSegDataset', data_root={str(root)!r}, "
                     f"img_dir='img/{split}', ann_dir='ann/{split}', classes={classes!r}, img_suffix={suffix!r}, "
                     f'binary=False, pipeline=pipeline{dataset}))')
    path = root / 'config.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def doctor(config: str):
    result = check_dataset.main([config, '--nproc', '1'])
    return result, [(v.severity, v.split, v.message, v.fix) for v in result['verdicts']]


def only(verdicts, text):
    found = [v for v in verdicts if text in v[2]]
    assert len(found) >= 1, verdicts
    return found[0]


def test_sound_dataset_gets_exact_counts_weights_statistics_and_no_verdict(tmp_path, capsys):
    masks = [np.zeros(SIZE, np.uint8), np.ones(SIZE, np.uint8)]
    masks[1][:8] = 2  # image 1: 8 rows of class 2, 24 rows of class 1
    write_split(tmp_path, 'train', masks)
    write_split(tmp_path, 'val', [index_mask(0)])
    result, verdicts = doctor(write_config(tmp_path))
    assert verdicts == []
    # the same with the decoded cache on (the CamVid configs' default): the doctor reads the files itself
    assert doctor(write_config(tmp_path, dataset=', decoded_cache=True'))[1] == []
    train = result['summaries'][0]
    assert [(r.raw, r.label, r.pixels, r.images) for r in train.rows] == [
        (0, 0, 1280, 1), (1, 1, 960, 1), (2, 2, 320, 1)]
    assert train.counts.tolist() == [[1280, 0, 0], [0, 960, 320]]
    # images are 0 and 10 everywhere: each band has mean 5 and std 5
    assert train.moments.mean.tolist() == [5, 5, 5] and train.moments.std.tolist() == [5, 5, 5]
    out = capsys.readouterr().out
    assert 'Verdict: OK' in out and 'class indices (0..2)' in out
    # median frequency: class frequencies 1, 0.75, 0.25 over the images holding them -> median 0.75 / freq
    assert 'class_weight, median frequency' in out and '[0.750, 1.000, 3.000]' in out


def test_missing_masks_and_size_mismatches_are_named(tmp_path):
    write_split(tmp_path, 'train', [index_mask(0), None, np.zeros((16, 40), np.uint8)])
    write_split(tmp_path, 'val', [index_mask(1)])
    result, verdicts = doctor(write_config(tmp_path))
    missing = only(verdicts, 'have no mask')
    assert missing[:2] == ('error', 'train') and '1.png' in missing[2]
    assert 'train_dataloader.dataset.data_prefix.seg_map_path' in missing[3]
    size = only(verdicts, 'differ in size')
    assert 'is 16x40, its image 32x40' in size[2]
    assert result['summaries'][0].images_found == 3 and result['summaries'][0].masks_found == 2


def test_binary_0_255_masks_are_recognised(tmp_path):
    mask = np.zeros(SIZE, np.uint8)
    mask[10:] = 255
    write_split(tmp_path, 'train', [mask])
    write_split(tmp_path, 'val', [mask])
    _, verdicts = doctor(write_config(tmp_path, classes=('background', 'leaf')))
    verdict = only(verdicts, 'binary 0/255 masks')
    assert 'the ignore index: no foreground would be learned' in verdict[2]
    assert 'train_dataloader.dataset.label_map={255: 1}' in verdict[3]


def test_colour_masks_are_recognised_with_their_colours(tmp_path):
    rgb = np.zeros(SIZE + (3,), np.uint8)
    rgb[:, 20:] = (0, 0, 255)  # BGR: red
    write_split(tmp_path, 'train', [rgb])
    write_split(tmp_path, 'val', [rgb])
    result, verdicts = doctor(write_config(tmp_path))
    verdict = only(verdicts, 'colour-coded (RGB)')
    assert '[[0, 0, 0], [255, 0, 0]]' in verdict[2] and 'train_dataloader.dataset.colour_masks=True' in verdict[3]
    assert result['summaries'][0].mask_kinds == {'colour': 1}


def test_one_based_masks_call_for_reduce_zero_label(tmp_path):
    write_split(tmp_path, 'train', [index_mask(0, 4)])  # 0 = unlabelled, 1..3 the three classes
    write_split(tmp_path, 'val', [index_mask(1, 4)])
    _, verdicts = doctor(write_config(tmp_path))
    verdict = only(verdicts, 'label values run 0..3 for 3 classes')
    assert verdict[3] == 'train_dataloader.dataset.reduce_zero_label=True'
    _, fixed = doctor(write_config(tmp_path, dataset=', reduce_zero_label=True'))
    assert fixed == []


def test_values_out_of_range_are_listed_with_pixels(tmp_path):
    mask = index_mask(0)
    mask[0, :5] = 7
    write_split(tmp_path, 'train', [mask])
    write_split(tmp_path, 'val', [index_mask(1)])
    _, verdicts = doctor(write_config(tmp_path))
    verdict = only(verdicts, 'values outside 0..2')
    assert '7 (5 px)' in verdict[2] and 'train_dataloader.dataset.label_map' in verdict[3]
    assert verdict[1] == 'train'


def test_model_that_ignores_another_label_is_an_error(tmp_path):
    write_split(tmp_path, 'train', [index_mask(0)])
    write_split(tmp_path, 'val', [index_mask(1)])
    _, verdicts = doctor(write_config(tmp_path, model="model['decode_head']['ignore_index'] = 0"))
    verdict = only(verdicts, 'model.decode_head.ignore_index=0')
    assert verdict[1] == 'model' and 'train_dataloader.dataset.ignore_index=255' in verdict[2]


def test_sixteen_bit_four_band_images_need_their_own_normalisation(tmp_path):
    images = [np.full(SIZE + (4,), v, np.uint16) * np.array([1, 2, 3, 4], np.uint16) for v in (1000, 3000)]
    write_split(tmp_path, 'train', [index_mask(0), index_mask(1)], images=images, suffix='.tif')
    write_split(tmp_path, 'val', [index_mask(2)], images=images[:1], suffix='.tif')
    config = write_config(tmp_path, pipeline="dict(type='LoadMultiBandImage')", suffix='.tif')
    _, verdicts = doctor(config)
    verdict = only(verdicts, 'the images have 4 bands but the data preprocessor normalises 3')
    # band b of image v is v * (b + 1): mean 2000 (b + 1), std 1000 (b + 1); file order (no BGR swap for 4 bands)
    assert ('mean=[2000.0, 4000.0, 6000.0, 8000.0], std=[1000.0, 2000.0, 3000.0, 4000.0]' in verdict[3]
            and 'model.backbone.in_channels=4' in verdict[3])
    fix = ("model['data_preprocessor'].update(mean=[2000, 4000, 6000, 8000], std=[1000, 2000, 3000, 4000])\n"
           "model['backbone']['in_channels'] = 4")
    fixed = write_config(tmp_path, pipeline="dict(type='LoadMultiBandImage')", suffix='.tif', model=fix)
    assert doctor(fixed)[1] == []
    swapped = write_config(tmp_path, pipeline="dict(type='LoadMultiBandImage')", suffix='.tif',
                           model=fix + "\nmodel['data_preprocessor']['bgr_to_rgb'] = True")
    verdict = only(doctor(swapped)[1], 'reverses the first three')
    assert verdict[0] == 'warning' and verdict[3] == 'model.data_preprocessor.bgr_to_rgb=False'


def test_float_images_in_zero_one_with_eight_bit_statistics_are_an_error(tmp_path):
    images = [np.full(SIZE + (3,), v, np.float32) for v in (0.25, 0.75)]
    write_split(tmp_path, 'train', [index_mask(0), index_mask(1)], images=images, suffix='.tif')
    write_split(tmp_path, 'val', [index_mask(2)], images=images[:1], suffix='.tif')
    _, verdicts = doctor(write_config(tmp_path, pipeline="dict(type='LoadMultiBandImage')", suffix='.tif'))
    verdict = only(verdicts, 'float images in 0..1')
    assert 'mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25]' in verdict[3]


@pytest.mark.parametrize('argv_tail, code', [([], 0)])
def test_exit_code_is_zero_when_sound(tmp_path, argv_tail, code):
    write_split(tmp_path, 'train', [index_mask(0)])
    write_split(tmp_path, 'val', [index_mask(1)])
    assert check_dataset.run([write_config(tmp_path), '--nproc', '1'] + argv_tail) == code
    (tmp_path / 'ann' / 'val' / '0.png').unlink()
    assert check_dataset.run([write_config(tmp_path), '--nproc', '1']) == 1
