from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from segkit.models.backbones import MobileNetV2, ResNetV1c
from segkit.models.backbones.convert import convert_torchvision_mobilenet_v2, unused_torchvision_keys
from segkit.registry import BACKBONES

SHARED_WEIGHTS = Path(__file__).resolve().parents[1].parent / 'shared' / 'weights' / 'mobilenet_v2-b0353104.pth'

# (strides, dilations) for output strides 8, 16, 32, and the expected spatial sizes of the 4 stages at 64 px.
RESNET_OS = {
    8: (((1, 2, 1, 1), (1, 1, 2, 4)), (16, 8, 8, 8)),
    16: (((1, 2, 2, 1), (1, 1, 1, 2)), (16, 8, 4, 4)),
    32: (((1, 2, 2, 2), (1, 1, 1, 1)), (16, 8, 4, 2)),
}
MOBILENET_OS = {
    8: (((1, 2, 2, 1, 1, 1, 1), (1, 1, 1, 2, 2, 4, 4)), (16, 8, 8, 8)),
    16: (((1, 2, 2, 2, 1, 1, 1), (1, 1, 1, 1, 1, 2, 2)), (16, 8, 4, 4)),
    32: (((1, 2, 2, 2, 1, 2, 1), (1,) * 7), (16, 8, 4, 2)),
}


def tiny_resnet(depth=50, **kwargs):
    return ResNetV1c(depth=depth, stem_channels=8, base_channels=8, **kwargs)


def randomize_bn(model):
    """Give BN layers non-trivial affine weights and statistics so that a swapped key would change outputs."""
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5


# ----------------------------------------------------------------------------------------------- ResNetV1c


@pytest.mark.parametrize('depth, expansion', [(18, 1), (50, 4)])
@pytest.mark.parametrize('output_stride', [8, 16, 32])
def test_resnet_output_shapes(depth, expansion, output_stride):
    (strides, dilations), sizes = RESNET_OS[output_stride]
    model = tiny_resnet(depth, strides=strides, dilations=dilations).eval()
    outs = model(torch.rand(1, 3, 64, 64))
    channels = tuple(8 * 2**i * expansion for i in range(4))
    assert [o.shape[1] for o in outs] == list(channels) == list(model.out_channels)
    assert [o.shape[-1] for o in outs] == list(sizes)


@pytest.mark.parametrize('output_stride', [None, 8, 16, 32])
def test_output_stride_argument_gives_the_tuples(output_stride):
    """output_stride derives the tuples the MMSegmentation form spells out; None is the undilated network (32)."""
    resnet = tiny_resnet(18, output_stride=output_stride)
    mobilenet = MobileNetV2(widen_factor=0.5, output_stride=output_stride)
    assert (resnet.strides, resnet.dilations) == RESNET_OS[output_stride or 32][0]
    assert (mobilenet.strides, mobilenet.dilations) == MOBILENET_OS[output_stride or 32][0]
    assert resnet.output_stride == mobilenet.output_stride == (output_stride or 32)


def test_resnet_out_indices_and_registry():
    model = BACKBONES.build(dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, out_indices=(1, 3)))
    outs = model(torch.rand(2, 3, 32, 32))
    assert len(outs) == 2 and outs[0].shape == (2, 16, 4, 4) and outs[1].shape == (2, 64, 1, 1)
    assert model.out_channels == (16, 64)


def test_resnet_state_dict_keys_match_mmseg():
    model = tiny_resnet(50)
    bn = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    expected = {f'stem.{i}.weight' for i in (0, 3, 6)} | {f'stem.{i}.{p}' for i in (1, 4, 7) for p in bn}
    for stage, blocks in enumerate((3, 4, 6, 3), start=1):
        for b in range(blocks):
            prefix = f'layer{stage}.{b}'
            expected |= {f'{prefix}.conv{k}.weight' for k in (1, 2, 3)}
            expected |= {f'{prefix}.bn{k}.{p}' for k in (1, 2, 3) for p in bn}
            if b == 0:
                expected |= {f'{prefix}.downsample.0.weight'} | {f'{prefix}.downsample.1.{p}' for p in bn}
    state = model.state_dict()
    assert set(state) == expected
    assert state['stem.0.weight'].shape == (4, 3, 3, 3) and state['stem.6.weight'].shape == (8, 4, 3, 3)
    assert state['layer2.0.downsample.0.weight'].shape == (64, 32, 1, 1)


def test_resnet_syncbn_config_builds_with_same_keys():
    model = tiny_resnet(18, norm_cfg=dict(type='SyncBN', requires_grad=True))
    assert isinstance(model.layer1[0].bn1, nn.SyncBatchNorm)
    assert set(model.state_dict()) == set(tiny_resnet(18).state_dict())


def test_resnet_multi_grid_scales_last_stage_dilations():
    model = tiny_resnet(50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), multi_grid=(1, 2, 4))
    assert [blk.conv2.dilation[0] for blk in model.layer4] == [4, 8, 16]
    assert [blk.conv2.padding[0] for blk in model.layer4] == [4, 8, 16]
    assert [blk.conv2.dilation[0] for blk in model.layer3] == [2] * 6  # other stages untouched
    assert model(torch.rand(1, 3, 64, 64))[-1].shape[-1] == 8
    plain = tiny_resnet(50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
    assert [blk.conv2.dilation[0] for blk in plain.layer4] == [4, 4, 4]


def test_resnet_multi_grid_length_must_match_blocks():
    with pytest.raises(ValueError, match='multi_grid.*3 blocks'):
        tiny_resnet(50, multi_grid=(1, 2))


def test_resnet_contract_dilation():
    model = tiny_resnet(50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
    assert [blk.conv2.dilation[0] for blk in model.layer3] == [1] + [2] * 5
    assert [blk.conv2.dilation[0] for blk in model.layer4] == [2, 4, 4]
    assert model.layer2[0].conv2.dilation[0] == 1  # dilation 1 stays 1, not 0
    basic = tiny_resnet(18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
    assert [blk.conv1.dilation[0] for blk in basic.layer4] == [2, 4]


def test_resnet_frozen_stages():
    model = tiny_resnet(18, frozen_stages=1)
    model.train()
    for module in (model.stem, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules() if isinstance(m, _BatchNorm))
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2[0].bn1.training


def test_resnet_norm_eval_keeps_running_stats():
    model = tiny_resnet(18, norm_eval=True)
    model.train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert all(p.requires_grad for p in model.parameters())
    before = model.layer1[0].bn1.running_mean.clone()
    model(torch.rand(2, 3, 32, 32) * 5)
    assert torch.equal(model.layer1[0].bn1.running_mean, before)
    default = tiny_resnet(18).train()
    assert default.layer1[0].bn1.training


def test_resnet_init_zero_init_residual():
    model = tiny_resnet(50)
    model.init_weights()
    assert all(torch.all(blk.bn3.weight == 0) for name in model.stage_names for blk in getattr(model, name))
    assert torch.all(model.layer1[0].bn1.weight == 1)
    assert model.layer1[0].conv2.weight.std() > 0


def test_resnet_pretrained_mmseg_checkpoint(tmp_path):
    source = tiny_resnet(18)
    randomize_bn(source)
    path = tmp_path / 'segmentor.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, path)
    model = tiny_resnet(18, init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    x = torch.rand(1, 3, 32, 32)
    for a, b in zip(model.eval()(x), source.eval()(x)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=42), r'depth=42.*\[18, 34, 50, 101, 152\]'),
    (dict(depth=18, strides=(1, 2, 2)), r'strides=\(1, 2, 2\) has 3 entries.*4 stages'),
    (dict(depth=18, dilations=(1, 1, 1, 1, 1)), 'dilations'),
    (dict(depth=18, out_indices=(0, 4)), r'out_indices.*\[4\]'),
    (dict(depth=18, frozen_stages=5), 'frozen_stages=5'),
])
def test_resnet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResNetV1c(**kwargs)


# ----------------------------------------------------------------------------------------------- MobileNetV2


@pytest.mark.parametrize('output_stride', [8, 16, 32])
def test_mobilenet_output_shapes(output_stride):
    (strides, dilations), sizes = MOBILENET_OS[output_stride]
    model = MobileNetV2(widen_factor=0.5, strides=strides, dilations=dilations).eval()
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 16, 48, 160] == list(model.out_channels)  # 24/32/96/320 * 0.5 -> /8
    assert [o.shape[-1] for o in outs] == list(sizes)


def test_mobilenet_dilation_only_in_depthwise():
    strides, dilations = MOBILENET_OS[8][0]
    model = MobileNetV2(widen_factor=0.5, strides=strides, dilations=dilations)
    for block in model.layer7:
        assert block.depthwise.conv.dilation == (4, 4) and block.depthwise.conv.padding == (4, 4)
        assert block.expand.conv.dilation == (1, 1) and block.project.conv.dilation == (1, 1)
    assert model.layer4[0].depthwise.conv.stride == (1, 1)
    assert model.layer1[0].expand is None and not model.layer1[0].use_residual
    assert model.layer2[1].use_residual and not model.layer2[0].use_residual


def test_mobilenet_frozen_stages_and_norm_eval():
    model = MobileNetV2(widen_factor=0.5, frozen_stages=2, norm_eval=False)
    model.train()
    assert all(not p.requires_grad for m in (model.stem, model.layer1, model.layer2) for p in m.parameters())
    assert not model.layer2[1].depthwise.bn.training
    assert model.layer3[0].depthwise.bn.training and all(p.requires_grad for p in model.layer3.parameters())
    evaled = MobileNetV2(widen_factor=0.5, norm_eval=True).train()
    assert not any(m.training for m in evaled.modules() if isinstance(m, _BatchNorm))


@pytest.mark.parametrize('kwargs, message', [
    (dict(strides=(1, 2, 2)), 'strides'),
    (dict(out_indices=(7,)), 'out_indices'),
    (dict(widen_factor=0), 'widen_factor'),
])
def test_mobilenet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MobileNetV2(**kwargs)


# segkit stage i (layer{i+1}) ends where torchvision's features[:FEATURE_ENDS[i]] ends (stem + cumulative repeats).
FEATURE_ENDS = (2, 4, 7, 11, 14, 17, 18)


@pytest.mark.parametrize('width', [1.0, 0.5])
def test_torchvision_mapping_reproduces_features(width):
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v2(weights=None, width_mult=width).eval()
    randomize_bn(tv)
    converted = convert_torchvision_mobilenet_v2(tv.state_dict())
    model = MobileNetV2(widen_factor=width, out_indices=tuple(range(7))).eval()
    model.load_state_dict(converted, strict=True)  # every backbone key covered, nothing extra
    assert set(converted) == set(model.state_dict())
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        outs = model(x)
        for out, end in zip(outs, FEATURE_ENDS):
            torch.testing.assert_close(out, tv.features[:end](x), rtol=1e-4, atol=1e-5)


def test_torchvision_unused_keys():
    state = torchvision.models.mobilenet_v2(weights=None).state_dict()
    unused = unused_torchvision_keys(state)
    assert unused and all(k.startswith(('features.18.', 'classifier.')) for k in unused)
    assert {k.split('.')[0] for k in unused} == {'features', 'classifier'}
    assert set(unused) == {k for k in state if k.startswith(('features.18.', 'classifier.'))}


def _mobilenet_outputs(model, x):
    with torch.no_grad():
        return model.eval()(x)


def test_init_weights_from_torchvision_file(tmp_path):
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v2(weights=None, width_mult=0.5)
    randomize_bn(tv)
    bare, wrapped = tmp_path / 'tv.pth', tmp_path / 'wrapped.pth'
    torch.save(tv.state_dict(), bare)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in tv.state_dict().items()}}, wrapped)

    reference = MobileNetV2(widen_factor=0.5)
    reference.load_state_dict(convert_torchvision_mobilenet_v2(tv.state_dict()))
    x = torch.rand(1, 3, 32, 32)
    expected = _mobilenet_outputs(reference, x)
    for path, prefix in ((bare, None), (wrapped, 'backbone.')):
        model = MobileNetV2(widen_factor=0.5, init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix=prefix))
        model.init_weights()
        assert model.is_init
        for a, b in zip(_mobilenet_outputs(model, x), expected):
            torch.testing.assert_close(a, b)
    unused = MobileNetV2(widen_factor=0.5).load_pretrained(str(bare))
    assert sorted(unused) == sorted(unused_torchvision_keys(tv.state_dict()))


def test_load_pretrained_errors(tmp_path):
    state = torchvision.models.mobilenet_v2(weights=None, width_mult=0.5).state_dict()
    partial = tmp_path / 'partial.pth'
    torch.save({k: v for k, v in state.items() if not k.startswith('features.5.')}, partial)
    with pytest.raises(KeyError, match=r'missing.*layer3\.1\.'):
        MobileNetV2(widen_factor=0.5).load_pretrained(str(partial))
    with pytest.raises(KeyError, match="prefix='backbone.'"):
        MobileNetV2(widen_factor=0.5).load_pretrained(str(partial), prefix='backbone')
    with pytest.raises(RuntimeError, match='widen_factor=1.0'):
        MobileNetV2().load_pretrained(str(partial))


@pytest.mark.skipif(not SHARED_WEIGHTS.is_file(), reason=f'{SHARED_WEIGHTS} not present')
def test_real_torchvision_weights_match():
    tv = torchvision.models.mobilenet_v2(weights=None)
    tv.load_state_dict(torch.load(SHARED_WEIGHTS, map_location='cpu', weights_only=True))
    model = MobileNetV2(out_indices=tuple(range(7)),
                        init_cfg=dict(type='Pretrained', checkpoint=str(SHARED_WEIGHTS)))
    model.init_weights()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        outs = model.eval()(x)
        for out, end in zip(outs, FEATURE_ENDS):
            torch.testing.assert_close(out, tv.eval().features[:end](x))


def test_mmseg_mobilenet_v2_keys_load_through_init_cfg(tmp_path):
    """An MMSegmentation (or mmcls) file: conv1.* / layerS.B.conv.K.* keys under 'backbone.', plus keys segkit's
    backbone has no use for; the MMSeg fixture's backbone weights land where they belong."""
    ref = torch.load(Path(__file__).parent / 'fixtures' / 'mmseg_tiny_deeplabv3_m-v2-d8.pt', weights_only=True)
    state = {k: v for k, v in ref['state_dict'].items() if k.startswith('backbone.')}
    path = tmp_path / 'mmseg.pth'
    torch.save({'state_dict': {**state, 'backbone.conv2.conv.weight': torch.zeros(1)}}, path)
    model = MobileNetV2(widen_factor=0.125, dilate_first_block_only=True,
                        init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    own = model.state_dict()
    assert len(own) == len(state)
    assert torch.equal(own['stem.conv.weight'], state['backbone.conv1.conv.weight'].float())
    assert torch.equal(own['layer1.0.depthwise.conv.weight'], state['backbone.layer1.0.conv.0.conv.weight'].float())
    assert torch.equal(own['layer1.0.project.bn.running_var'], state['backbone.layer1.0.conv.1.bn.running_var'])
    assert torch.equal(own['layer7.0.expand.conv.weight'], state['backbone.layer7.0.conv.0.conv.weight'].float())
    assert torch.equal(own['layer7.0.project.conv.weight'], state['backbone.layer7.0.conv.2.conv.weight'].float())


def test_mobilenet_dilate_first_block_only():
    model = MobileNetV2(widen_factor=0.25, output_stride=8, dilate_first_block_only=True)
    assert [b.depthwise.conv.dilation[0] for b in model.layer4] == [2, 1, 1, 1]
    assert [b.depthwise.conv.dilation[0] for b in model.layer6] == [4, 1, 1]
    assert all(b.depthwise.conv.padding == b.depthwise.conv.dilation for b in model.layer6)
