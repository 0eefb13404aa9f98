"""MMSegmentation checkpoints load into the model their own config builds in segkit, and give the same logits.

One fixture per distinct DeepLab architecture among MMSegmentation 1.2.2's 96 DeepLab configs (16), each produced
by MMSegmentation itself from one representative config file, narrowed (tests/fixtures/README.md). segkit builds
each stored MMSeg model config through :func:`segkit.mmseg_config.translate_mmseg_config`, the translation every
entry point uses. The feature maps are large enough for the (scaled) atrous rates that every tap of every dilated
conv reads image pixels, so a wrong rate changes the logits: the mutation tests below check that it does, for every
dilated conv of every fixture. Where MMSegmentation's venv exists, the full-size models of the 16 configs are
checked too (``test_full_size_mmseg_models_give_identical_logits``, marked slow).
"""
import copy
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint
from torch import nn

from segkit.engine.config_setup import replace_sync_bn
from segkit.mmseg_config import translate_mmseg_config
from segkit.registry import SEGMENTORS

FIXTURES = Path(__file__).parent / 'fixtures'
REPO = Path(__file__).resolve().parents[1]
MMSEG_PYTHON = Path('/tmp/peer_mmseg/bin/python')
MMSEG_CONFIGS = Path('/tmp/peer_mmseg/lib/python3.11/site-packages/mmseg/.mim/configs')
#: fixture name -> output stride of its backbone; the fixture names its MMSeg config (``ref['config']``)
TINY = {f'{head}_{backbone}': 16 if 'd16' in backbone else 8
        for backbone in ('r18-d8', 'r50-d8', 'r101-d8', 'r18b-d8', 'r50b-d8', 'r101b-d8', 'r101-d16-mg124', 'm-v2-d8')
        for head in ('deeplabv3', 'deeplabv3plus')}
#: the fixtures' atrous rates are MMSeg's divided by this (tests/fixtures/README.md)
RATE_DIVISOR = 3
# float32 logits agree to 1e-5 of their range: the order of accumulation differs between oneDNN's kernels for one
# CPU and another (AMD AVX-512 vs Intel AVX-512/AMX gave up to 1.5e-6 of the range), so a fixed absolute 1e-5
# on logits of size ~40 would test the CPU, not the mapping.
RELATIVE_TOL = 1e-5


def close_to_reference(got: torch.Tensor, expected: torch.Tensor) -> bool:
    return bool((got - expected).abs().max() <= RELATIVE_TOL * max(1.0, float(expected.abs().max())))


def translated(mmseg_cfg: Config, source: str) -> dict:
    """The segkit model config of an MMSeg config, through the product translation; SyncBN -> BN."""
    assert translate_mmseg_config(mmseg_cfg, source)
    assert mmseg_cfg.default_scope == 'segkit'
    return replace_sync_bn(mmseg_cfg.model)


def fixture_model_cfg(ref: dict) -> dict:
    """The fixture's stored MMSeg model config, wrapped in an MMSeg config and translated."""
    return translated(Config(dict(default_scope='mmseg', model=json.loads(ref['model_cfg']))), ref['config'])


def knob_form(cfg: dict, output_stride: int) -> dict:
    """The same model through segkit's output-stride knob: no per-stage tuples, rates quoted at 16."""
    cfg = copy.deepcopy(cfg)
    cfg['backbone'].pop('strides')
    cfg['backbone'].pop('dilations')
    cfg['output_stride'] = output_stride
    head = cfg['decode_head']
    head['dilations'] = [d if d == 1 else d * output_stride // 16 for d in head['dilations']]
    return cfg


def load_reference(name):
    return torch.load(FIXTURES / f'mmseg_tiny_{name}.pt', weights_only=True)


def build_and_load(model_cfg: dict, checkpoint: Path) -> nn.Module:
    model = SEGMENTORS.build(model_cfg).eval()
    load_checkpoint(model, str(checkpoint), strict=True)  # strict: every MMSeg tensor used, every segkit key filled
    return model


def fixture_checkpoint(ref: dict, tmp_path: Path) -> Path:
    path = tmp_path / 'mmseg.pth'
    torch.save(dict(state_dict=ref['state_dict'], meta=dict(mmseg_version=ref['mmseg_version'])), path)
    return path


def metas_of(x: torch.Tensor):
    h, w = x.shape[-2:]
    return [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), padding_size=[0, 0, 0, 0])]


@torch.no_grad()
def run(model: nn.Module, ref: dict):
    """(full-size logits at the fixture's sampled pixels, decode head logits, auxiliary head logits)."""
    x = ref['input'].float()
    step = ref['logits_step']
    feats = model.extract_feat(x)
    return (model.encode_decode(x, metas_of(x))[..., ::step, ::step], model.decode_head(feats),
            model.auxiliary_heads[0](feats))


def assert_matches(model, ref):
    logits, decode, aux = run(model, ref)
    assert logits.shape == ref['logits'].shape and decode.shape == ref['decode_logits'].shape
    assert close_to_reference(decode, ref['decode_logits'])
    assert close_to_reference(logits, ref['logits'])
    assert close_to_reference(aux, ref['aux_logits'])


@pytest.mark.parametrize('name', TINY)
def test_tiny_mmseg_checkpoint_gives_identical_logits(name, tmp_path):
    ref = load_reference(name)
    mmseg_cfg = json.loads(ref['model_cfg'])
    cfg = fixture_model_cfg(ref)
    # the pretrained source, one of the things that tell the architectures apart, survives the translation
    assert cfg['backbone']['init_cfg'] == dict(type='Pretrained', checkpoint=mmseg_cfg['pretrained'])
    assert_matches(build_and_load(cfg, fixture_checkpoint(ref, tmp_path)), ref)


def test_there_is_a_fixture_per_architecture():
    assert sorted(p.name for p in FIXTURES.glob('mmseg_tiny_*.pt')) == sorted(f'mmseg_tiny_{n}.pt' for n in TINY)
    configs = {load_reference(name)['config'] for name in TINY}
    assert len(configs) == 16


@pytest.mark.parametrize('name', TINY)
def test_output_stride_knob_builds_the_same_model(name, tmp_path):
    """MMSeg-form configs say output_stride and rates at 16 instead of the tuples: same logits."""
    ref = load_reference(name)
    cfg = knob_form(fixture_model_cfg(ref), TINY[name])
    assert_matches(build_and_load(cfg, fixture_checkpoint(ref, tmp_path)), ref)


def dilated_convs(model: nn.Module):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.dilation[0] > 1]


@pytest.mark.parametrize('name', TINY)
def test_parity_fails_when_any_dilation_changes(name, tmp_path):
    ref = load_reference(name)
    model = build_and_load(fixture_model_cfg(ref), fixture_checkpoint(ref, tmp_path))
    convs = dilated_convs(model)
    assert any('aspp' in n for n, _ in convs) and any('backbone' in n for n, _ in convs)
    x = ref['input'].float()
    for conv_name, conv in convs:
        rate = conv.dilation[0]
        conv.dilation, conv.padding = (rate + 1,) * 2, (rate + 1,) * 2
        with torch.no_grad():
            decode = model.decode_head(model.extract_feat(x))
        conv.dilation, conv.padding = (rate,) * 2, (rate,) * 2
        assert not torch.allclose(decode, ref['decode_logits'], atol=1e-3, rtol=1e-3), conv_name
    assert_matches(model, ref)  # restored


@pytest.mark.parametrize('name, option, value', [
    ('deeplabv3_m-v2-d8', 'dilate_first_block_only', False),
    ('deeplabv3plus_m-v2-d8', 'dilate_first_block_only', False),
    ('deeplabv3_r101-d16-mg124', 'multi_grid_mode', 'unit'),
    ('deeplabv3plus_r101-d16-mg124', 'multi_grid_mode', 'unit'),
])
def test_mmseg_form_options_are_needed(name, option, value, tmp_path):
    """Without the option the translation adds, the checkpoint still loads (same shapes) but the logits differ."""
    ref = load_reference(name)
    cfg = fixture_model_cfg(ref)
    assert cfg['backbone'][option] != value
    cfg['backbone'][option] = value
    logits, _, _ = run(build_and_load(cfg, fixture_checkpoint(ref, tmp_path)), ref)
    assert not torch.allclose(logits, ref['logits'], atol=1e-3, rtol=1e-3)


#: what the fixtures change in their config's model: widths, classes and the scale of the rates
NARROWED = dict(backbone=('stem_channels', 'base_channels', 'widen_factor'),
                decode_head=('in_channels', 'channels', 'c1_in_channels', 'c1_channels', 'num_classes', 'dilations'),
                auxiliary_head=('in_channels', 'channels', 'num_classes'))


def architecture(model: dict) -> dict:
    """What a fixture keeps of its config's model: everything but NARROWED."""
    return {part: {k: v for k, v in value.items() if k not in NARROWED[part]} if part in NARROWED else value
            for part, value in model.items()}


@pytest.mark.skipif(not MMSEG_CONFIGS.is_dir(), reason=f'no MMSegmentation configs at {MMSEG_CONFIGS}')
@pytest.mark.parametrize('name', TINY)
def test_fixture_keeps_the_architecture_of_its_config(name):
    """Depth, stem, strides, dilations, multi-grid, contract_dilation, head types, in_index, the 1:2:3 rate
    structure, pretrained source, ...: all as in the config file; only widths, classes and rate scale differ."""
    ref = load_reference(name)
    stored = json.loads(ref['model_cfg'])
    original = json.loads(json.dumps(Config.fromfile(str(MMSEG_CONFIGS / ref['config'])).model.to_dict()))
    assert architecture(stored) == architecture(original)
    rates = stored['decode_head']['dilations']
    assert [d if d == 1 else d * RATE_DIVISOR for d in rates] == original['decode_head']['dilations'] != rates


# ---------------------------------------------------------------------------------------------- full size
#: input size of the full-size check: the last feature map (64x64 at output stride 8, 32x32 at 16) is larger
#: than every atrous rate (36 at 8, 18 at 16) and than the multi-grid dilations
FULL_SIZE = (512, 512)


@pytest.fixture(scope='module')
def mmseg_full_size(tmp_path_factory):
    """One MMSegmentation process for all the full-size tests (its import takes seconds): it reads a config on
    stdin, writes its reference and answers 'REFERENCE <path>'; returns config -> that path."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}  # the generator finds shared/peers itself
    process = subprocess.Popen(
        [str(MMSEG_PYTHON), '-W', 'ignore', str(FIXTURES / 'make_mmseg_fixtures.py'),
         str(tmp_path_factory.mktemp('mmseg_full_size')), '--size', *map(str, FULL_SIZE),
         '--threads', str(torch.get_num_threads()), '--full-size'],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def reference(config: str) -> Path:
        process.stdin.write(config + '\n')
        process.stdin.flush()
        for line in process.stdout:
            if line.startswith('REFERENCE '):
                return Path(line[len('REFERENCE '):].strip())
            print(line, end='')  # whatever else MMSegmentation printed
        raise AssertionError(f'MMSegmentation gave no reference for {config} (exit status {process.wait()})')

    yield reference
    process.stdin.close()
    process.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.skipif(not MMSEG_PYTHON.is_file(), reason=f'no MMSegmentation venv at {MMSEG_PYTHON}')
@pytest.mark.parametrize('name', TINY)
def test_full_size_mmseg_models_give_identical_logits(name, mmseg_full_size):
    """The FULL model of each representative config: MMSegmentation builds it (SyncBN -> BN, its classes, random
    weights and BN statistics drawn as the fixtures') and writes input, logits and state_dict; segkit reads the same
    .py config file through the translation, loads that state_dict strictly and gives the same logits."""
    config = load_reference(name)['config']
    start = time.perf_counter()
    path = mmseg_full_size(config)
    mmseg_seconds = time.perf_counter() - start
    cfg = translated(Config.fromfile(str(MMSEG_CONFIGS / config)), config)
    model = build_and_load(cfg, path)
    ref = torch.load(path, weights_only=True)
    path.unlink()
    x = ref['input']
    with torch.no_grad():
        feats = model.extract_feat(x)
        decode = model.decode_head(feats)
        logits = model.decode_head.resize_to_input(decode, metas_of(x))  # = encode_decode, the backbone run once
        aux = model.auxiliary_heads[0](feats)
    print(f'{config}: MMSeg {mmseg_seconds:.1f} s, segkit {time.perf_counter() - start - mmseg_seconds:.1f} s')
    assert feats[-1].shape[-2:] == tuple(s // TINY[name] for s in FULL_SIZE)
    assert logits.shape == ref['logits'].shape == (1, cfg['decode_head']['num_classes'], *FULL_SIZE)
    assert close_to_reference(decode, ref['decode_logits'])
    assert close_to_reference(logits, ref['logits'])
    assert close_to_reference(aux, ref['aux_logits'])


# ------------------------------------------------------------------------------ segkit's own MMSeg-form configs
@pytest.mark.parametrize('arch,config', [
    ('deeplabv3', 'configs/deeplabv3/r50_512x512_voc.py'),
    ('deeplabv3plus', 'configs/deeplabv3plus/r50_512x512_voc.py'),
])
def test_r50_d8_checkpoint_keys_map_onto_the_segkit_config(arch, config, tmp_path):
    shapes = json.loads((FIXTURES / f'mmseg_{arch}_r50-d8_keys.json').read_text())
    cfg = Config.fromfile(str(REPO / config))
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    model = MODELS.build(model_cfg)
    state = {k: torch.zeros(s, dtype=torch.long if k.endswith('num_batches_tracked') else torch.float32)
             for k, s in shapes.items()}
    for k in state:
        if not k.endswith('num_batches_tracked'):
            state[k].normal_()
    missing, unexpected = model.load_state_dict(dict(state), strict=False)
    assert not missing and not unexpected
    assert torch.equal(model.decode_head.aspp.project.conv.weight, state['decode_head.bottleneck.conv.weight'])
    assert torch.equal(model.auxiliary_heads[0].classifier.weight, state['auxiliary_head.conv_seg.weight'])


def conv_layout(model: nn.Module):
    return [(n, m.kernel_size, m.stride, m.dilation, m.padding, m.groups) for n, m in model.named_modules()
            if isinstance(m, nn.Conv2d)]


# (per-stage tuples of MMSeg's config, the MMSeg-form backbone options segkit needs)
RESNET_D8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)), dict(contract_dilation=True)
MOBILENET_D8 = (dict(strides=(1, 2, 2, 1, 1, 1, 1), dilations=(1, 1, 1, 2, 2, 4, 4)),
                dict(dilate_first_block_only=True))
RESNET_D16_MG124 = (dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
                    dict(multi_grid=(1, 2, 4), multi_grid_mode='absolute'))


@pytest.mark.parametrize('config, backbone, rates', [
    ('configs/deeplabv3/r50_512x512_voc.py', RESNET_D8, (1, 12, 24, 36)),
    ('configs/deeplabv3plus/r50_512x512_voc.py', RESNET_D8, (1, 12, 24, 36)),
    ('configs/deeplabv3/mobilenetv2-d8_512x1024_cityscapes.py', MOBILENET_D8, (1, 12, 24, 36)),
    ('configs/deeplabv3plus/mobilenetv2-d8_512x1024_cityscapes.py', MOBILENET_D8, (1, 12, 24, 36)),
    ('configs/deeplabv3/r101-d16-mg124_512x1024_cityscapes.py', RESNET_D16_MG124, (1, 6, 12, 18)),
])
def test_shipped_mmseg_form_configs_build_mmseg_networks(config, backbone, rates):
    """The configs say model.output_stride and rates at 16; MMSeg's configs say per-stage tuples and rates at the
    model's own output stride. Every conv must come out the same (kernel, stride, dilation, padding, groups)."""
    tuples, options = backbone
    model_cfg = replace_sync_bn(Config.fromfile(str(REPO / config)).model)
    model_cfg.backbone.pop('init_cfg')
    assert {k: model_cfg.backbone.get(k) for k in options} == options
    if 'depth' in model_cfg.backbone:
        model_cfg.backbone.depth = 50  # the knob does not depend on depth; R101 only builds slower
    explicit = copy.deepcopy(model_cfg)
    explicit.pop('output_stride')
    explicit.backbone.update(tuples)
    explicit.decode_head.update(dilations=rates)
    knob_model, explicit_model = MODELS.build(model_cfg), MODELS.build(explicit)
    assert conv_layout(knob_model) == conv_layout(explicit_model)
    assert knob_model.decode_head.dilations == rates


@pytest.mark.parametrize('name', ['deeplabv3plus_r50-d8', 'deeplabv3_r101b-d8', 'deeplabv3plus_m-v2-d8'])
@pytest.mark.parametrize('fast', [False, True], ids=['as-trained', 'fast-defaults'])
def test_init_model_takes_an_mmseg_config_file_and_checkpoint(name, fast, tmp_path):
    """segkit.apis.init_model(MMSEG_CONFIG, MMSEG_CHECKPOINT): the file in MMSegmentation's vocabulary (scope
    mmseg, pretrained=, c1_* ...), translated in config loading; the logits are MMSegmentation's (BN folded and
    channels-last too, up to float rounding: 1e-3 of the range after 100 folded layers, the same labels)."""
    from segkit.apis import init_model
    ref = load_reference(name)
    model_cfg = json.loads(ref['model_cfg'])
    config = tmp_path / 'mmseg_config.py'
    config.write_text(f"default_scope = 'mmseg'\nmodel = {model_cfg!r}\n"
                      "test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]\n"
                      "test_dataloader = dict(dataset=dict(type='CityscapesDataset', pipeline=test_pipeline))\n")
    model = init_model(str(config), str(fixture_checkpoint(ref, tmp_path)), fast=fast)
    assert model.cfg.default_scope == 'segkit' and model.inference_options.fuse_bn is fast
    logits, decode, _ = run(model, ref)
    if not fast:
        assert close_to_reference(decode, ref['decode_logits'])
        assert close_to_reference(logits, ref['logits'])
    scale = float(ref['logits'].abs().max())
    assert (logits - ref['logits']).abs().max() <= 1e-3 * scale
    top2 = ref['logits'].topk(2, dim=1).values
    decided = (top2[:, 0] - top2[:, 1]) > 1e-2 * scale
    assert torch.equal(logits.argmax(1)[decided], ref['logits'].argmax(1)[decided])
    assert model.dataset_meta['classes'][0] == 'road'  # the config's dataset names the classes
