"""Fully connected CRF (DenseCRF): the permutohedral lattice against the exact Gaussian filter, mean-field results
with known answers, the optional pydensecrf route, and test_cfg.crf through EncoderDecoder, TTA and tools/test.py."""
import copy
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS

from segkit.models.postprocessors import DenseCRF, PermutohedralLattice
from segkit.models.inference import TTAOptions
from segkit.models.inference.crf import source_image
from segkit.registry import POSTPROCESSORS
from tests.helpers import tiny_deeplabv3plus

HAS_PYDENSECRF = importlib.util.find_spec('pydensecrf') is not None
EDGE = 20  # the colour edge of two_colour_image: columns < EDGE are red, the rest blue


def two_colour_image(h=32, w=48):
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :EDGE] = (200, 40, 40)
    image[:, EDGE:] = (40, 60, 200)
    return image


def coarse_probs(boundary, h=32, w=48, slope=0.3):
    """Two classes split at column ``boundary`` (class 0 left of it), soft like upsampled network logits."""
    logit = (boundary - 0.5 - torch.arange(w, dtype=torch.float32)) * slope
    return torch.stack([logit, -logit])[:, None].expand(2, h, w).softmax(0)


def exact_gaussian(features, values):
    weights = torch.exp(-torch.cdist(features.double(), features.double()) ** 2 / 2)
    return weights @ values.double()


@pytest.mark.parametrize('kind', ['spatial', 'bilateral'])
def test_lattice_matches_the_exact_gaussian_filter(kind):
    """Normalised outputs (weighted averages) agree with the O(N^2) filter to the lattice's few per cent."""
    g = torch.Generator().manual_seed(0)
    ys, xs = torch.meshgrid(torch.arange(12.), torch.arange(12.), indexing='ij')
    position = torch.stack([xs, ys], -1).reshape(-1, 2)
    if kind == 'spatial':
        features = position / 3
    else:
        image = torch.where(xs[..., None] < 6, 200., 40.) + 20 * torch.rand(12, 12, 3, generator=g)
        features = torch.cat([position / 5, image.reshape(-1, 3) / 10], 1)
    values = torch.rand(144, 3, generator=g)
    lattice = PermutohedralLattice(features)
    approx = lattice.filter(values) / lattice.filter(torch.ones(144, 1))
    exact = exact_gaussian(features, values) / exact_gaussian(features, torch.ones(144, 1))
    error = (approx - exact).abs()
    assert error.max() < 0.04 and error.mean() < 0.01  # values lie in [0, 1]
    assert lattice.num_points < 144 * (features.shape[1] + 1)


def test_lattice_keeps_distant_features_apart():
    """Two colour clusters far apart in feature space do not mix: each point averages its own cluster only."""
    features = torch.cat([torch.zeros(50, 5), torch.full((50, 5), 10.)]) + torch.rand(100, 5) * 0.1
    values = torch.cat([torch.zeros(50, 1), torch.ones(50, 1)])
    lattice = PermutohedralLattice(features)
    mean = lattice.filter(values) / lattice.filter(torch.ones(100, 1))
    assert mean[:50].max() < 1e-6 and mean[50:].min() > 1 - 1e-6


@pytest.mark.parametrize('offset', [-3, 3])
def test_crf_moves_the_label_boundary_onto_the_colour_edge(offset):
    probs = coarse_probs(EDGE + offset)
    assert ((probs.argmax(0) == 0).sum(1) == EDGE + offset).all()
    refined = DenseCRF()(probs, two_colour_image())
    assert ((refined.argmax(0) == 0).sum(1) == EDGE).all()


def test_zero_kernel_weights_return_the_softmax_of_the_unary():
    g = torch.Generator().manual_seed(1)
    probs = torch.randn(4, 20, 24, generator=g).mul(3).softmax(0)
    probs[:, 0, 0] = torch.tensor([1., 0., 0., 0.])  # a zero probability: its unary is clamped, not infinite
    image = torch.randint(0, 256, (20, 24, 3), dtype=torch.uint8, generator=g).numpy()
    refined = DenseCRF(pos_w=0, bi_w=0)(probs, image)
    assert torch.allclose(refined, probs.clamp_min(1e-8).log().softmax(0), atol=1e-6)
    assert torch.equal(refined.argmax(0), probs.argmax(0))


def test_marginals_stay_normalised():
    g = torch.Generator().manual_seed(2)
    probs = torch.randn(5, 30, 26, generator=g).softmax(0)
    image = torch.randint(0, 256, (30, 26, 3), dtype=torch.uint8, generator=g)
    refined = DenseCRF(iterations=5, bi_xy_std=10, bi_rgb_std=20)(probs, image)
    assert refined.shape == probs.shape and refined.dtype == torch.float32
    assert refined.min() >= 0 and torch.allclose(refined.sum(0), torch.ones(30, 26), atol=1e-5)


@pytest.mark.parametrize('kwargs, key', [(dict(bi_xy_std=-1), 'bi_xy_std'), (dict(pos_xy_std=0), 'pos_xy_std'),
                                         (dict(bi_w=-2), 'bi_w'), (dict(iterations=2.5), 'iterations'),
                                         (dict(bi_rgb_std='3'), 'bi_rgb_std'), (dict(backend='cuda'), 'backend')])
def test_bad_parameters_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        DenseCRF(**kwargs)


def test_unknown_parameter_names_the_key_and_the_closest_one():
    with pytest.raises(TypeError, match="unknown parameter 'bi_ww'.*did you mean 'bi_w'"):
        DenseCRF(bi_ww=4)
    with pytest.raises(TypeError, match="'bi_xy_sd'"):
        MODELS.build(dict(tiny_deeplabv3plus(aux=False), test_cfg=dict(crf=dict(bi_xy_sd=50))))


def test_missing_pydensecrf_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)  # makes the import fail as if not installed
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    with pytest.raises(ImportError) as error:
        DenseCRF(backend='pydensecrf')
    message = str(error.value)
    assert "pip install 'segkit[crf]'" in message and 'pydensecrf2' in message and '\n' not in message


@pytest.mark.skipif(not HAS_PYDENSECRF, reason="optional pydensecrf2 not installed (pip install 'segkit[crf]')")
def test_lattice_agrees_with_pydensecrf():
    cases = [(coarse_probs(EDGE + 3), two_colour_image())]
    g = torch.Generator().manual_seed(3)
    blobs = cv2.resize(torch.randint(0, 256, (4, 6, 3), dtype=torch.uint8, generator=g).numpy(), (48, 32),
                       interpolation=cv2.INTER_NEAREST)
    coarse = torch.randn(1, 3, 4, 6, generator=g) * 2
    cases.append((torch.nn.functional.interpolate(coarse, size=(32, 48), mode='bilinear')[0].softmax(0), blobs))
    for probs, image in cases:
        ours = DenseCRF(bi_xy_std=30)(probs, image)
        theirs = DenseCRF(bi_xy_std=30, backend='pydensecrf')(probs, image)
        assert (ours - theirs).abs().max() < 0.1
        assert (ours.argmax(0) == theirs.argmax(0)).float().mean() > 0.99


# ----------------------------------------------------------------------------------------- through the model
LOAD = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]


def models_with_and_without_crf(crf=dict(type='DenseCRF', iterations=5)):
    torch.manual_seed(0)
    plain = MODELS.build(tiny_deeplabv3plus(aux=False)).eval()
    refined = MODELS.build(dict(tiny_deeplabv3plus(aux=False), test_cfg=dict(mode='whole', crf=crf))).eval()
    refined.load_state_dict(plain.state_dict())
    return plain, refined


def write_image(tmp_path):
    image = two_colour_image(36, 44)
    image[10:26, 30:40] = (30, 200, 30)
    path = tmp_path / 'scene.png'
    cv2.imwrite(str(path), image[..., ::-1])  # stored BGR
    return path, image


def test_test_cfg_crf_refines_encoder_decoder_predictions(tmp_path):
    plain, refined = models_with_and_without_crf()
    assert isinstance(refined.crf, DenseCRF) and refined.crf.iterations == 5 and plain.crf is None
    path, image = write_image(tmp_path)
    data = pseudo_collate([Compose(LOAD)(dict(img_path=str(path)))])
    before = plain.test_step(copy.deepcopy(data))[0]
    after = refined.test_step(copy.deepcopy(data))[0]
    expected = DenseCRF(iterations=5)(before.seg_logits.data.softmax(0), image)
    assert torch.allclose(after.seg_logits.data.exp(), expected, atol=1e-5)
    assert torch.equal(after.pred_sem_seg.data[0], expected.argmax(0))

    # A constructed network output: the class boundary 3 pixels right of the colour edge (input padded to 40x48).
    for model in (plain, refined):
        model.encode_decode = lambda inputs, metas: coarse_probs(EDGE + 3, 40, 48).log()[None]
    before = plain.test_step(copy.deepcopy(data))[0].pred_sem_seg.data[0]
    after = refined.test_step(data)[0].pred_sem_seg.data[0]
    assert before.shape == after.shape == (36, 44)
    assert ((before == 0).sum(1) == EDGE + 3).all() and ((after == 0).sum(1) == EDGE).all()


def test_in_memory_images_are_recovered_from_the_network_input(tmp_path):
    """No img_path (inference on arrays): the de-normalised, un-padded input gives the same image and result."""
    _, refined = models_with_and_without_crf()
    path, image = write_image(tmp_path)
    from_file = refined.test_step(pseudo_collate([Compose(LOAD)(dict(img_path=str(path)))]))[0]
    array = Compose(LOAD[1:])(dict(img=image[..., ::-1].copy(), img_path=None, img_shape=image.shape[:2],
                                   ori_shape=image.shape[:2]))
    batch = refined.data_preprocessor(pseudo_collate([copy.deepcopy(array)]))
    meta = batch['data_samples'][0].metainfo
    assert batch['inputs'].shape[-2:] == (40, 48)  # padded
    assert np.array_equal(source_image(meta, batch['inputs'][0], refined.data_preprocessor), image)
    flipped = dict(meta, flip=True, flip_direction='horizontal')
    mirrored = batch['inputs'][0].clone()
    mirrored[:, :36, :44] = mirrored[:, :36, :44].flip(2)
    assert np.array_equal(source_image(flipped, mirrored, refined.data_preprocessor), image)
    from_array = refined.test_step(pseudo_collate([array]))[0]
    assert torch.equal(from_array.pred_sem_seg.data, from_file.pred_sem_seg.data)


def test_tta_runs_the_crf_once_on_the_merged_probabilities(tmp_path):
    plain, refined = models_with_and_without_crf()
    tta = dict(scales=(1.0, 0.75), flip=True)
    plain.inference_options = plain.inference_options.replace(tta=TTAOptions(**tta))
    refined.inference_options = refined.inference_options.replace(tta=TTAOptions(**tta))
    assert isinstance(refined.crf, DenseCRF)
    path, image = write_image(tmp_path)
    data = pseudo_collate([Compose(LOAD)(dict(img_path=str(path)))])
    merged = plain.test_step(copy.deepcopy(data))[0]
    after = refined.test_step(data)[0]
    expected = DenseCRF(iterations=5)(merged.seg_logits.data.exp(), image)
    assert torch.allclose(after.seg_logits.data.exp(), expected, atol=1e-5)


def test_test_tool_crf_flag_turns_it_on_and_cfg_options_tune_it(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))
    import test as test_tool
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')
    config = str(Path(__file__).resolve().parents[1] / 'configs/deeplabv3plus/r18_96x96_shapes.py')
    args = test_tool.parse_args([config, str(checkpoint), '--crf', '--cfg-options', 'model.test_cfg.crf.bi_w=5'])
    crf_cfg = test_tool.build_config(args).model.test_cfg.crf
    assert crf_cfg == dict(type='DenseCRF', bi_w=5)
    built = POSTPROCESSORS.build(crf_cfg)
    assert (built.bi_w, built.bi_xy_std, built.iterations) == (5, 67, 10)
    with pytest.raises(ValueError, match='--tta-pipeline: .* --tta'):
        test_tool.build_config(test_tool.parse_args([config, str(checkpoint), '--crf', '--tta-pipeline']))
    in_model = test_tool.build_config(test_tool.parse_args([config, str(checkpoint), '--crf', '--tta'])).model
    assert in_model.test_cfg.crf == dict(type='DenseCRF') and in_model.test_cfg.tta.flip is True
    assert 'crf' not in test_tool.build_config(test_tool.parse_args([config, str(checkpoint)])).model.test_cfg
