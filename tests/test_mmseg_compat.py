"""MMSegmentation checkpoints load into segkit's modules (every tensor used) and give the same logits.

The fixtures were produced by MMSegmentation 1.2.2 itself (tests/fixtures/README.md). Their feature maps are large
enough for their atrous rates that every tap of every dilated conv reads image pixels, so a wrong rate changes the
logits: the mutation tests below check that it does, for every dilated conv of every fixture.
"""
import copy
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint
from torch import nn

from segkit.engine.config_setup import replace_sync_bn

FIXTURES = Path(__file__).parent / 'fixtures'
REPO = Path(__file__).resolve().parents[1]
# fixture name -> output stride of its backbone
TINY = {'deeplabv3': 8, 'deeplabv3plus': 8, 'deeplabv3_m-v2-d8': 8, 'deeplabv3plus_m-v2-d8': 8,
        'deeplabv3_r-d16-mg124': 16}
# float32 logits agree to 1e-5 of their range: the order of accumulation differs between oneDNN's kernels for one
# CPU and another (AMD AVX-512 vs Intel AVX-512/AMX gave up to 1.5e-6 of the range), so a fixed absolute 1e-5
# on logits of size ~40 would test the CPU, not the mapping.
RELATIVE_TOL = 1e-5


def close_to_reference(got: torch.Tensor, expected: torch.Tensor) -> bool:
    return bool((got - expected).abs().max() <= RELATIVE_TOL * max(1.0, float(expected.abs().max())))


def segkit_model_cfg(mmseg_cfg: dict) -> dict:
    """The segkit config of an MMSeg model config, in MMSegmentation form (explicit strides and dilations)."""
    cfg = json.loads(json.dumps(mmseg_cfg))
    cfg.pop('pretrained', None)
    backbone = cfg['backbone']
    backbone.pop('style', None)
    if backbone['type'] == 'MobileNetV2':
        backbone['dilate_first_block_only'] = True  # MMSeg dilates the first block of a stage only
    if backbone.get('multi_grid'):
        backbone['multi_grid_mode'] = 'absolute'  # MMSeg's multi_grid numbers are the dilations
    head = cfg['decode_head']
    head['project_kernel_size'] = 3  # MMSeg's ASPP bottleneck is a 3x3 conv
    if 'c1_in_channels' in head:
        head['low_level_in_channels'] = head.pop('c1_in_channels')
        head['low_level_channels'] = head.pop('c1_channels')
    for h in (head, cfg['auxiliary_head']):
        h['loss_decode'].pop('use_sigmoid', None)
    return cfg


def knob_form(cfg: dict, output_stride: int) -> dict:
    """The same model through segkit's output-stride knob: no per-stage tuples, rates quoted at 16."""
    cfg = json.loads(json.dumps(cfg))
    cfg['backbone'].pop('strides')
    cfg['backbone'].pop('dilations')
    cfg['output_stride'] = output_stride
    head = cfg['decode_head']
    head['dilations'] = [d if d == 1 else d * output_stride // 16 for d in head['dilations']]
    return cfg


def load_reference(name):
    return torch.load(FIXTURES / f'mmseg_tiny_{name}.pt', weights_only=True)


def build_and_load(model_cfg: dict, ref: dict, tmp_path) -> nn.Module:
    model = MODELS.build(model_cfg).eval()
    ckpt = tmp_path / 'mmseg.pth'
    torch.save(dict(state_dict=ref['state_dict'], meta=dict(mmseg_version='1.2.2')), ckpt)
    load_checkpoint(model, str(ckpt), strict=True)  # strict: every MMSeg tensor used, every segkit key filled
    return model


@torch.no_grad()
def run(model: nn.Module, ref: dict):
    """(full-size logits at the fixture's sampled pixels, decode head logits, auxiliary head logits)."""
    x = ref['input'].float()
    h, w = x.shape[-2:]
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), padding_size=[0, 0, 0, 0])]
    step = ref['logits_step']
    feats = model.extract_feat(x)
    return (model.encode_decode(x, metas)[..., ::step, ::step], model.decode_head(feats),
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
    assert_matches(build_and_load(segkit_model_cfg(json.loads(ref['model_cfg'])), ref, tmp_path), ref)


@pytest.mark.parametrize('name', TINY)
def test_output_stride_knob_builds_the_same_model(name, tmp_path):
    """MMSeg-form configs say output_stride and rates at 16 instead of the tuples: same logits."""
    ref = load_reference(name)
    cfg = knob_form(segkit_model_cfg(json.loads(ref['model_cfg'])), TINY[name])
    assert_matches(build_and_load(cfg, ref, tmp_path), ref)


def dilated_convs(model: nn.Module):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.dilation[0] > 1]


@pytest.mark.parametrize('name', TINY)
def test_parity_fails_when_any_dilation_changes(name, tmp_path):
    ref = load_reference(name)
    model = build_and_load(segkit_model_cfg(json.loads(ref['model_cfg'])), ref, tmp_path)
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
    ('deeplabv3_r-d16-mg124', 'multi_grid_mode', 'unit'),
])
def test_mmseg_form_options_are_needed(name, option, value, tmp_path):
    """Without the MMSeg-form option the checkpoint still loads (same shapes) but the logits differ."""
    ref = load_reference(name)
    cfg = segkit_model_cfg(json.loads(ref['model_cfg']))
    cfg['backbone'][option] = value
    logits, _, _ = run(build_and_load(cfg, ref, tmp_path), ref)
    assert not torch.allclose(logits, ref['logits'], atol=1e-3, rtol=1e-3)


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
