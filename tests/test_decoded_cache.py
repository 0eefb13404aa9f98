"""The decoded-image cache (``decoded_cache``): it returns exactly what the loading steps read from the files (RGB
images, index masks with their label mapping, colour masks, multi-band TIFF), serves the DataLoader's workers from
the shared buffer, keeps the cache intact when later steps write into their arrays, falls back to the files over
its size limit with a logged reason, and refuses unknown keys and pipelines that do not start by loading."""
import logging

import cv2
import numpy as np
import pytest
import tifffile
import torch

from segkit.datasets import CamVidDataset, FolderSegDataset
from tests.conftest import CAMVID

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
PALETTE = [[0, 0, 0], [255, 0, 0], [0, 128, 255]]
RNG = np.random.default_rng(0)


def write_folder(root, num=6, colour=False, tiff=False):
    """``num`` random images (different sizes) and their masks under root/img and root/ann."""
    (root / 'img').mkdir(parents=True, exist_ok=True)
    (root / 'ann').mkdir(parents=True, exist_ok=True)
    for i in range(num):
        h, w = 20 + 3 * i, 30 - 2 * i
        labels = RNG.integers(0, 3, (h, w)).astype(np.uint8)
        if tiff:
            tifffile.imwrite(root / 'img' / f'{i}.tif', RNG.integers(0, 65536, (h, w, 4)).astype(np.uint16),
                             photometric='minisblack', planarconfig='contig')
        else:
            cv2.imwrite(str(root / 'img' / f'{i}.png'), RNG.integers(0, 256, (h, w, 3)).astype(np.uint8))
        mask = np.asarray(PALETTE, np.uint8)[labels][..., ::-1] if colour else labels
        cv2.imwrite(str(root / 'ann' / f'{i}.png'), np.ascontiguousarray(mask))


def folder(root, pipeline=LOAD, **kwargs):
    kwargs.setdefault('img_suffix', '.png')
    return FolderSegDataset(data_root=str(root), img_dir='img', ann_dir='ann', classes=('a', 'b', 'c'),
                            palette=PALETTE, pipeline=pipeline, **kwargs)


def assert_same(cached: dict, read: dict):
    """Every key, with arrays equal in values, dtype and shape."""
    assert sorted(cached) == sorted(read)
    for key, value in read.items():
        if isinstance(value, np.ndarray):
            assert cached[key].dtype == value.dtype and cached[key].shape == value.shape, key
            assert np.array_equal(cached[key], value), key
        elif key == 'colour_table':  # each dataset builds its own table (no __eq__)
            assert repr(cached[key]) == repr(value)
        else:
            assert cached[key] == value, key


@pytest.mark.parametrize('route', ['index', 'colour', 'multiband'])
def test_cache_returns_what_the_loading_steps_read_from_the_files(tmp_path, route):
    write_folder(tmp_path, colour=route == 'colour', tiff=route == 'multiband')
    kwargs = dict(colour_masks=True) if route == 'colour' else {}
    pipeline = LOAD
    if route == 'multiband':
        kwargs = dict(img_suffix='.tif')
        pipeline = [dict(type='LoadMultiBandImage', bands=[3, 0, 1]), dict(type='LoadAnnotations')]
    cached = folder(tmp_path, pipeline, decoded_cache=dict(max_mib=1), **kwargs)
    read = folder(tmp_path, pipeline, **kwargs)
    assert cached._decoded is not None and len(cached._decoded) == len(read) == 6
    for i in range(len(read)):
        assert_same(cached[i], read[i])
    if route == 'multiband':
        assert cached[0]['img'].dtype == np.uint16 and cached[0]['img'].shape[2] == 3
    if route == 'colour':
        assert cached[0]['gt_seg_map'].max() == 2


@pytest.mark.skipif(not (CAMVID / 'train.txt').is_file(), reason='needs CamVid')
def test_camvid_cache_holds_the_bytes_of_every_file():
    """All 101 val frames (RGB PNG and index mask, void mapped to 255) against a dataset that reads the files."""
    common = dict(data_root=str(CAMVID), ann_file='val.txt', data_prefix=dict(img_path='val', seg_map_path='valannot'),
                  pipeline=LOAD)
    cached, read = CamVidDataset(decoded_cache=True, **common), CamVidDataset(**common)
    assert cached._decoded.nbytes >= 101 * 360 * 480 * 4
    for i in range(len(read)):
        assert_same(cached[i], read[i])


def as_is(sample):
    return sample


@pytest.mark.parametrize('start', ['fork', 'spawn'])
def test_workers_read_the_shared_buffer_not_the_files(tmp_path, start):
    """Forked workers map the buffer, spawned ones receive it by handle; neither can read the deleted files."""
    write_folder(tmp_path)
    dataset = folder(tmp_path, decoded_cache=True)
    expected = [folder(tmp_path)[i] for i in range(len(dataset))]
    assert dataset._decoded.buffer.is_shared()
    for path in (tmp_path / 'img').iterdir():
        path.unlink()  # from now on only the cache can give the images
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2, collate_fn=as_is,
                                         multiprocessing_context=start)
    got = sorted(loader, key=lambda sample: sample['sample_idx'])
    assert len(got) == len(expected)
    for cached, read in zip(got, expected):
        assert_same(cached, read)


def test_later_steps_writing_into_their_arrays_leave_the_cache_intact(tmp_path):
    write_folder(tmp_path)
    dataset = folder(tmp_path, decoded_cache=True)
    first = dataset[0]
    first['img'][:] = 0
    first['gt_seg_map'][:] = 255
    assert_same(dataset[0], folder(tmp_path)[0])


def test_random_steps_still_run_per_sample_and_draw_as_without_the_cache(tmp_path):
    write_folder(tmp_path)
    pipeline = LOAD + [dict(type='RandomCrop', crop_size=(8, 8)), dict(type='RandomFlip', prob=0.5),
                       dict(type='PhotoMetricDistortion'), dict(type='PackSegInputs')]
    outputs = []
    for cache in (True, None):
        dataset = folder(tmp_path, pipeline, decoded_cache=cache)
        np.random.seed(3)
        outputs.append([dataset[i % 6] for i in range(12)])
    for cached, read in zip(*outputs):
        assert torch.equal(cached['inputs'], read['inputs'])
        assert torch.equal(cached['data_samples'].gt_sem_seg.data, read['data_samples'].gt_sem_seg.data)
    assert not torch.equal(outputs[0][0]['inputs'], outputs[0][6]['inputs'])  # same image, other random draws


def test_over_the_size_limit_it_logs_and_reads_the_files(tmp_path, monkeypatch):
    write_folder(tmp_path)
    logged = []
    monkeypatch.setattr('segkit.datasets.decoded_cache.print_log',
                        lambda message, **kwargs: logged.append((kwargs['level'], message)))
    dataset = folder(tmp_path, decoded_cache=dict(max_mib=0.003))
    assert dataset._decoded is None
    (level, log), = logged
    assert level == logging.WARNING
    assert 'FolderSegDataset: decoded_cache.max_mib=0.003 is too small: the first 2 of 6 samples' in log
    assert 'Reading the files at every step instead; raise decoded_cache.max_mib' in log
    assert_same(dataset[2], folder(tmp_path)[2])


def test_sample_list_changed_after_building_falls_back_to_the_files(tmp_path):
    write_folder(tmp_path)
    subset = folder(tmp_path, decoded_cache=True).get_subset([4, 1])
    got, expected = subset[0], folder(tmp_path)[4]
    assert got.pop('sample_idx') == 0 and expected.pop('sample_idx') == 4  # its index in the subset
    assert_same(got, expected)


def test_keys_and_pipelines_it_refuses(tmp_path):
    write_folder(tmp_path)
    with pytest.raises(KeyError, match=r"FolderSegDataset: decoded_cache has unknown keys \['max_gb'\]; its only "
                                       'key is max_mib'):
        folder(tmp_path, decoded_cache=dict(max_gb=1))
    with pytest.raises(ValueError, match='decoded_cache.max_mib=0 must be a number of MiB > 0'):
        folder(tmp_path, decoded_cache=dict(max_mib=0))
    with pytest.raises(TypeError, match=r"decoded_cache='yes'; give dict\(max_mib=<MiB>\)"):
        folder(tmp_path, decoded_cache='yes')
    with pytest.raises(ValueError, match='decoded_cache caches what the loading steps at the head of the pipeline '
                                         r'read .* but the pipeline starts with RandomFlip'):
        folder(tmp_path, [dict(type='RandomFlip', prob=0.5)] + LOAD, decoded_cache=True)


def test_an_empty_pipeline_has_nothing_to_cache(tmp_path):
    """The data doctor, band_stats, class weights and the colour converter build a config's dataset with
    pipeline=[] and read the files themselves: a config with decoded_cache must still build there."""
    write_folder(tmp_path)
    dataset = folder(tmp_path, [], decoded_cache=True)
    assert dataset.decoded_cache_cfg is None and len(dataset) == 6
    assert dataset[0]['img_path'].endswith('.png')
