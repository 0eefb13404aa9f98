"""Multi-band and high-bit-depth images: TIFF (interleaved, planar, float) and 16-bit PNG read exactly, N-band
normalisation, band-wise photometric steps (and the refusal of colour ones), drawing, band statistics, and a
4-band model trained end to end."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
import torch

from segkit.datasets import FolderSegDataset
from segkit.datasets.transforms import (BandBrightnessContrast, DataFileError, LoadMultiBandImage,
                                        PhotoMetricDistortion, read_bands)
from segkit.models.data_preprocessor import SegDataPreProcessor
from segkit.registry import MODELS
from segkit.structures import PixelData, SegDataSample
from segkit.visualization import display_image, draw_overlay
from tests.helpers import tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
import band_stats  # noqa: E402

RNG = np.random.default_rng(0)
FOUR_BANDS = RNG.integers(0, 65536, (24, 32, 4)).astype(np.uint16)


def test_tiff_layouts_and_dtypes_read_as_h_w_bands(tmp_path):
    tifffile.imwrite(tmp_path / 'contig.tif', FOUR_BANDS, photometric='minisblack', planarconfig='contig')
    tifffile.imwrite(tmp_path / 'planar.tif', FOUR_BANDS.transpose(2, 0, 1), photometric='minisblack',
                     planarconfig='separate')  # band-sequential, as GDAL often writes GeoTIFFs
    floats = RNG.random((24, 32, 7)).astype(np.float32)
    tifffile.imwrite(tmp_path / 'float.tiff', floats, photometric='minisblack', planarconfig='contig')
    tifffile.imwrite(tmp_path / 'single.tif', FOUR_BANDS[..., 0])
    assert np.array_equal(read_bands(str(tmp_path / 'contig.tif')), FOUR_BANDS)
    assert np.array_equal(read_bands(str(tmp_path / 'planar.tif')), FOUR_BANDS)
    assert np.array_equal(read_bands(str(tmp_path / 'float.tiff')), floats)
    assert read_bands(str(tmp_path / 'single.tif')).shape == (24, 32, 1)
    tifffile.imwrite(tmp_path / 'stack.tif', np.zeros((3, 2, 24, 32), np.uint8), metadata={'axes': 'TCYX'})
    with pytest.raises(DataFileError, match=r'stack.tif has axes .*more than one axis besides Y and X'):
        read_bands(str(tmp_path / 'stack.tif'))


def test_sixteen_bit_png_keeps_its_values_in_file_order(tmp_path):
    rgb = FOUR_BANDS[..., :3]
    cv2.imwrite(str(tmp_path / 'rgb16.png'), rgb[..., ::-1])  # OpenCV writes BGR arrays as RGB files
    cv2.imwrite(str(tmp_path / 'grey16.png'), FOUR_BANDS[..., 0])
    assert np.array_equal(read_bands(str(tmp_path / 'rgb16.png')), rgb)
    assert np.array_equal(read_bands(str(tmp_path / 'grey16.png'))[..., 0], FOUR_BANDS[..., 0])
    (tmp_path / 'broken.tif').write_bytes(b'II*\x00garbage')
    with pytest.raises(DataFileError, match='cannot read image .*broken.tif'):
        read_bands(str(tmp_path / 'broken.tif'))


def test_band_selection_and_its_errors(tmp_path):
    tifffile.imwrite(tmp_path / 'a.tif', FOUR_BANDS, photometric='minisblack', planarconfig='contig')
    out = LoadMultiBandImage(bands=[3, 0])(dict(img_path=str(tmp_path / 'a.tif')))
    assert np.array_equal(out['img'], FOUR_BANDS[..., [3, 0]]) and out['ori_shape'] == (24, 32)
    with pytest.raises(ValueError, match=r'bands=\[5\] but image .*a.tif has 4 bands'):
        LoadMultiBandImage(bands=[5])(dict(img_path=str(tmp_path / 'a.tif')))


def test_preprocessor_normalises_each_band_and_swaps_only_bgr():
    image = torch.from_numpy(FOUR_BANDS.transpose(2, 0, 1).copy())
    mean, std = [100.0, 200.0, 300.0, 400.0], [10.0, 20.0, 30.0, 40.0]
    out = SegDataPreProcessor(mean=mean, std=std)(dict(inputs=[image]))['inputs'][0]
    expected = (image.double() - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    assert torch.allclose(out.double(), expected, rtol=1e-6)
    swapped = SegDataPreProcessor(mean=mean, std=std, bgr_to_rgb=True)(dict(inputs=[image]))['inputs'][0]
    assert torch.allclose(swapped[0].double(), (image[2].double() - 100) / 10, rtol=1e-6)  # BGRA -> RGBA
    assert torch.allclose(swapped[3].double(), (image[3].double() - 400) / 40, rtol=1e-6)
    with pytest.raises(ValueError, match=r'image x.tif has shape \(4, 24, 32\).*mean/std give 3 bands'):
        sample = SegDataSample(metainfo=dict(img_path='x.tif'))
        SegDataPreProcessor()(dict(inputs=[image], data_samples=[sample]))
    with pytest.raises(ValueError, match='one value per image band'):
        SegDataPreProcessor(mean=[1, 2, 3, 4], std=[1, 2, 3])
    with pytest.raises(ValueError, match='bgr_to_rgb=True swaps the first three channels'):
        SegDataPreProcessor(mean=[1], std=[1], bgr_to_rgb=True)


def test_band_brightness_contrast_known_values_and_range():
    step = BandBrightnessContrast(per_band=True)
    step._sample = lambda bands: (np.array([0.1, 0.0, -0.5, 0.0]), np.array([2.0, 1.0, 1.0, 0.5]))
    image = np.array([[[1000, 1000, 1000, 1000], [60000, 3, 40000, 9]]], np.uint16)
    out = step(dict(img=image))['img']
    assert out.dtype == np.uint16
    # shift 0.1 * 65535 = 6553.5 then x2; -0.5 * 65535; x0.5; clipped to 0..65535, rounded half to even at the end
    assert out.tolist() == [[[15107, 1000, 0, 500], [65535, 3, 7232, 4]]]
    with pytest.raises(TypeError, match=r'float32 image has no fixed value range; give value_range'):
        BandBrightnessContrast()(dict(img=np.zeros((2, 2, 5), np.float32)))
    floats = BandBrightnessContrast(value_range=(0, 1))
    floats._sample = lambda bands: (np.array([0.25]), None)
    assert floats(dict(img=np.full((1, 1, 5), 0.9, np.float32)))['img'].tolist() == [[[1.0] * 5]]


def test_colour_photometric_step_refuses_other_images_and_names_the_alternative():
    with pytest.raises(TypeError, match='defined for HxWx3 uint8 BGR images.*BandBrightnessContrast'):
        PhotoMetricDistortion()(dict(img=FOUR_BANDS, img_path='x.tif'))


def test_display_picks_three_bands_and_stretches_high_bit_depths():
    bgr = RNG.integers(0, 256, (4, 5, 3)).astype(np.uint8)
    assert display_image(bgr) is bgr
    ramp = np.arange(100, dtype=np.uint16).reshape(10, 10)
    image = np.stack([ramp, ramp * 2, 65535 - ramp, ramp], axis=-1)
    shown = display_image(image, (2, 1, 0))  # band 2 as red, 1 as green, 0 as blue
    assert shown.dtype == np.uint8 and shown.shape == (10, 10, 3)
    assert shown[0, 0].tolist() == [0, 0, 255] and shown[9, 9].tolist() == [255, 255, 0]  # BGR
    assert display_image(image).tolist() == display_image(image, (0, 1, 2)).tolist()
    with pytest.raises(ValueError, match=r'display bands \[4\] must be 1 or 3 indices'):
        display_image(image, [4])
    overlay = draw_overlay(image, np.zeros((10, 10), np.int64), [[255, 0, 0]], alpha=1.0, display_bands=(0, ))
    assert overlay[0, 0].tolist() == [0, 0, 255]


def write_tiff_dataset(root: Path, images):
    (root / 'img').mkdir(parents=True)
    (root / 'ann').mkdir()
    for i, image in enumerate(images):
        tifffile.imwrite(root / 'img' / f'{i}.tif', image, photometric='minisblack', planarconfig='contig')
        cv2.imwrite(str(root / 'ann' / f'{i}.png'), (np.arange(image.shape[1]) % 2 * np.ones(image.shape[:2]))
                    .astype(np.uint8))


def test_band_stats_tool_gives_file_order_statistics(tmp_path, capsys):
    write_tiff_dataset(tmp_path, [np.full((8, 8, 4), v, np.uint16) * np.array([1, 2, 3, 4], np.uint16)
                                  for v in (100, 300)])
    config = tmp_path / 'cfg.py'
    config.write_text(f"model = dict(type='EncoderDecoder')\ntrain_dataloader = dict(dataset=dict("
                      f"type='FolderSegDataset', data_root={str(tmp_path)!r}, img_dir='img', ann_dir='ann', "
                      "classes=('a', 'b'), img_suffix='.tif', pipeline=[dict(type='LoadMultiBandImage')]))\n")
    result = band_stats.main([str(config), '--nproc', '1'])
    assert result == dict(mean=[200.0, 400.0, 600.0, 800.0], std=[100.0, 200.0, 300.0, 400.0], bands=4)
    assert 'mean=[200.0, 400.0, 600.0, 800.0]' in capsys.readouterr().out


def test_four_band_sixteen_bit_data_trains_a_four_band_model(tmp_path):
    write_tiff_dataset(tmp_path, [RNG.integers(0, 4096, (40, 48, 4)).astype(np.uint16) for _ in range(2)])
    pipeline = [dict(type='LoadMultiBandImage'), dict(type='LoadAnnotations'),
                dict(type='RandomResize', scale=(48, 40), ratio_range=(0.8, 1.2), keep_ratio=True),
                dict(type='RandomCrop', crop_size=(32, 32)), dict(type='RandomFlip', prob=0.5),
                dict(type='BandBrightnessContrast', per_band=True), dict(type='PackSegInputs')]
    dataset = FolderSegDataset(data_root=str(tmp_path), img_dir='img', ann_dir='ann', classes=('a', 'b'),
                               img_suffix='.tif', pipeline=pipeline)
    samples = [dataset[i] for i in range(2)]
    assert samples[0]['inputs'].shape == (4, 32, 32) and samples[0]['inputs'].dtype == torch.uint16
    cfg = tiny_deeplabv3plus(num_classes=2, aux=False)
    cfg['backbone']['in_channels'] = 4
    cfg['data_preprocessor'].update(mean=[2048.0] * 4, std=[1182.0] * 4)
    model = MODELS.build(cfg)
    batch = dict(inputs=[s['inputs'] for s in samples], data_samples=[s['data_samples'] for s in samples])
    losses = model.loss(**model.data_preprocessor(batch, True))
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    assert model.backbone.stem[0].weight.grad[:, 3].abs().sum() > 0  # the fourth band reaches the network
    assert isinstance(samples[0]['data_samples'].gt_sem_seg, PixelData)
