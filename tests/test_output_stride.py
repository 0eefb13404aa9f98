"""One output-stride knob: backbones derive strides and dilations, ASPP heads rescale their rates, and
``EncoderDecoder(output_stride=...)`` / ``tools/test.py --output-stride`` switch a trained model without touching
its weights."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint
from torch import nn

from segkit.models.backbones import VGG16, MobileNetV2, MobileNetV3, ResNetV1c, Xception
from segkit.models.heads import ASPPHead, DepthwiseSeparableASPPHead
from segkit.models.output_stride import AtrousStep, atrous_schedule, scale_rates
from tests.helpers import BN, tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]

RESNET = {8: ((1, 2, 1, 1), (1, 1, 2, 4)), 16: ((1, 2, 2, 1), (1, 1, 1, 2)), 32: ((1, 2, 2, 2), (1, 1, 1, 1))}
MOBILENET = {8: ((1, 2, 2, 1, 1, 1, 1), (1, 1, 1, 2, 2, 4, 4)), 16: ((1, 2, 2, 2, 1, 1, 1), (1, 1, 1, 1, 1, 2, 2)),
             32: ((1, 2, 2, 2, 1, 2, 1), (1, 1, 1, 1, 1, 1, 1))}
#: VGG16's pools at 8 / 16 / 32: (stride of pool1..pool5, rate of the convs before each)
VGG = {8: ((2, 2, 2, 1, 1), (1, 1, 1, 1, 2)), 16: ((2, 2, 2, 2, 1), (1, 1, 1, 1, 1)), 32: ((2,) * 5, (1,) * 5)}


def schedule(strides, input_stride, output_stride):
    steps = atrous_schedule('test', strides, input_stride, output_stride)
    return (tuple(s.stride for s in steps), tuple(s.rate_in for s in steps), tuple(s.rate_out for s in steps))


@pytest.mark.parametrize('output_stride', [8, 16, 32])
def test_atrous_schedule_known_answers(output_stride):
    strides, rates_out = RESNET[output_stride]
    assert schedule((1, 2, 2, 2), 4, output_stride) == (strides, (1,) + rates_out[:-1], rates_out)
    assert schedule((1, 2, 2, 2, 1, 2, 1), 2, output_stride)[::2] == MOBILENET[output_stride]
    assert schedule((2,) * 5, 1, output_stride)[:2] == VGG[output_stride]


def test_atrous_schedule_none_keeps_every_stride():
    assert atrous_schedule('test', (1, 2, 2, 2), 4, None) == tuple(AtrousStep(s, 1, 1) for s in (1, 2, 2, 2))
    assert schedule((2,) * 5, 1, None) == schedule((2,) * 5, 1, 32)
    with pytest.raises(ValueError, match=r'test: output_stride=4 is not supported; use one of \(8, 16, 32\)'):
        atrous_schedule('test', (2, 2), 1, 4)
    with pytest.raises(ValueError, match=r'test: strides=\(2, 0\) must hold positive ints'):
        atrous_schedule('test', (2, 0), 1, 8)


def _last_size(backbone, size=64):
    with torch.no_grad():
        return backbone.eval()(torch.rand(1, 3, size, size))[-1].shape[-1]


#: every backbone, small, with a given output stride (None left out: the argument's default)
BACKBONES = {
    'ResNetV1c': lambda **kw: ResNetV1c(depth=18, stem_channels=8, base_channels=8, **kw),
    'MobileNetV2': lambda **kw: MobileNetV2(widen_factor=0.25, **kw),
    'MobileNetV3': lambda **kw: MobileNetV3(**kw),
    'Xception': lambda **kw: Xception(depth=41, **kw),
    'VGG16': lambda **kw: VGG16(base_channels=4, **kw),
}


@pytest.mark.parametrize('name', sorted(BACKBONES))
@pytest.mark.parametrize('output_stride', [None, 8, 16, 32])
def test_every_backbone_reaches_the_output_stride_and_none_is_32(name, output_stride):
    """One schedule, one meaning of None: the undilated network of output stride 32, for every backbone."""
    kwargs = {} if output_stride is None else dict(output_stride=output_stride)
    backbone = BACKBONES[name](**kwargs)
    assert backbone.output_stride == (output_stride or 32)
    assert _last_size(backbone) == 64 // (output_stride or 32)


@pytest.mark.parametrize('output_stride', [8, 16, 32])
def test_backbones_take_output_stride(output_stride):
    resnet = ResNetV1c(depth=18, stem_channels=8, base_channels=8, output_stride=output_stride)
    assert (resnet.strides, resnet.dilations) == RESNET[output_stride]
    assert resnet(torch.rand(1, 3, 64, 64))[-1].shape[-1] == 64 // output_stride
    mobilenet = MobileNetV2(widen_factor=0.25, output_stride=output_stride)
    assert (mobilenet.strides, mobilenet.dilations) == MOBILENET[output_stride]
    assert mobilenet(torch.rand(1, 3, 64, 64))[-1].shape[-1] == 64 // output_stride
    assert mobilenet.layer7[0].depthwise.conv.dilation == (MOBILENET[output_stride][1][6],) * 2
    vgg = VGG16(base_channels=4, output_stride=output_stride)
    assert tuple(getattr(vgg, f'pool{i}').stride for i in range(1, 6)) == VGG[output_stride][0]
    assert tuple(getattr(vgg, f'layer{i}')[0].conv.dilation[0] for i in range(1, 6)) == VGG[output_stride][1]


def test_explicit_tuples_are_the_mmsegmentation_form_of_none():
    assert ResNetV1c(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)).output_stride == 8
    assert ResNetV1c(depth=18, num_stages=3, out_indices=(2,)).output_stride == 16  # 3 stages: undilated 4 * 2 * 2


def test_contract_dilation_still_applies_with_output_stride():
    model = ResNetV1c(depth=50, stem_channels=8, base_channels=8, output_stride=8, contract_dilation=True)
    assert [b.conv2.dilation[0] for b in model.layer3] == [1] + [2] * 5
    assert [b.conv2.dilation[0] for b in model.layer4] == [2, 4, 4]


def test_multi_grid_unit_rates_follow_the_output_stride():
    at16 = ResNetV1c(depth=50, stem_channels=8, base_channels=8, output_stride=16, multi_grid=(1, 2, 4))
    at8 = ResNetV1c(depth=50, stem_channels=8, base_channels=8, output_stride=8, multi_grid=(1, 2, 4))
    absolute = ResNetV1c(depth=50, stem_channels=8, base_channels=8, output_stride=8, multi_grid=(1, 2, 4),
                         multi_grid_mode='absolute')
    assert [b.conv2.dilation[0] for b in at16.layer4] == [2, 4, 8]
    assert [b.conv2.dilation[0] for b in at8.layer4] == [4, 8, 16]
    assert [b.conv2.dilation[0] for b in absolute.layer4] == [1, 2, 4]


@pytest.mark.parametrize('build, message', [
    (lambda: ResNetV1c(depth=18, output_stride=8, strides=(1, 2, 1, 1)), 'not both'),
    (lambda: MobileNetV2(output_stride=16, dilations=(1,) * 7), 'not both'),
    (lambda: ResNetV1c(depth=18, output_stride=4), r'output_stride=4 is not supported; use one of \(8, 16, 32\)'),
    (lambda: ResNetV1c(depth=50, multi_grid=(1, 2, 4), multi_grid_mode='times'), 'multi_grid_mode'),
    (lambda: ASPPHead(in_channels=8, channels=4, num_classes=2, dilations=(1, 6, 9), output_stride=32),
     r'rate 9 .* not a whole rate at output_stride=32'),
    (lambda: ASPPHead(in_channels=8, channels=4, num_classes=2, dilations_output_stride=12, output_stride=8),
     'output stride 12'),
])
def test_bad_output_stride_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize('head_type', [ASPPHead, DepthwiseSeparableASPPHead])
@pytest.mark.parametrize('output_stride, rates', [(None, (6, 12, 18)), (16, (6, 12, 18)), (8, (12, 24, 36)),
                                                  (32, (3, 6, 9))])
def test_aspp_heads_rescale_their_rates_on_the_conv_modules(head_type, output_stride, rates):
    extra = dict(low_level_in_channels=0) if head_type is DepthwiseSeparableASPPHead else {}
    head = head_type(in_channels=8, channels=4, num_classes=2, dilations=(1, 6, 12, 18), output_stride=output_stride,
                     **extra)
    convs = [branch.depthwise_conv.conv if hasattr(branch, 'depthwise_conv') else branch.conv
             for branch in head.aspp.branches]
    assert convs[0].kernel_size == (1, 1)
    assert [c.dilation[0] for c in convs[1:]] == [c.padding[0] for c in convs[1:]] == list(rates)


def test_rates_quoted_at_8_halve_at_16():
    head = ASPPHead(in_channels=8, channels=4, num_classes=2, dilations=(1, 12, 24, 36), dilations_output_stride=8,
                    output_stride=16)
    assert head.dilations == (1, 6, 12, 18)
    assert scale_rates('x', (1, 2), 8, None) == (1, 2)


def knob_model_cfg(output_stride=16):
    """tests.helpers.tiny_deeplabv3plus through the knob: no per-stage tuples, ASPP rates (1, 2, 3) at 16."""
    cfg = tiny_deeplabv3plus()
    del cfg['backbone']['strides'], cfg['backbone']['dilations']
    cfg['decode_head'].update(dilations=(1, 2, 3))
    cfg['output_stride'] = output_stride
    return cfg


def aspp_dilations(model):
    return [b.depthwise_conv.conv.dilation[0] for b in model.decode_head.aspp.branches[1:]]


def test_checkpoint_trained_at_16_loads_strictly_at_8(tmp_path):
    torch.manual_seed(0)
    trained = MODELS.build(knob_model_cfg(16)).eval()
    ckpt = tmp_path / 'os16.pth'
    torch.save({'state_dict': trained.state_dict(), 'meta': {}}, ckpt)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        feats16 = trained.extract_feat(x)
    assert [f.shape[-1] for f in feats16] == [16, 8, 4, 4] and aspp_dilations(trained) == [2, 3]
    model = MODELS.build(knob_model_cfg(8)).eval()
    load_checkpoint(model, str(ckpt), strict=True)
    for name, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name
    with torch.no_grad():
        feats = model.extract_feat(x)
        logits = model(x)
    assert [f.shape[-1] for f in feats] == [16, 8, 8, 8]  # stages 3 and 4 double
    assert logits.shape[-1] == 16  # the v3+ decoder works at stride 4 whatever the output stride
    assert aspp_dilations(model) == [4, 6]
    assert tuple(b.conv1.dilation[0] for b in model.backbone.layer3) == (2, 2)
    assert tuple(b.conv1.dilation[0] for b in model.backbone.layer4) == (4, 4)


def test_checkpoint_trained_at_16_runs_at_32(tmp_path):
    cfg16 = knob_model_cfg(16)
    cfg16['decode_head'].update(dilations=(1, 4, 8))
    trained = MODELS.build(cfg16).eval()
    ckpt = tmp_path / 'os16.pth'
    torch.save({'state_dict': trained.state_dict()}, ckpt)
    cfg32 = copy.deepcopy(cfg16)
    cfg32['output_stride'] = 32
    model = MODELS.build(cfg32).eval()
    load_checkpoint(model, str(ckpt), strict=True)
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]  # half of output stride 16's 4x4
    assert aspp_dilations(model) == [2, 4]
    assert model.backbone.strides == (1, 2, 2, 2) and model.backbone.dilations == (1, 1, 1, 1)


def test_model_output_stride_reaches_neck_and_leaves_fcn_heads_alone():
    cfg = knob_model_cfg(8)
    cfg['neck'] = dict(type='CascadedBlocks', in_channels=64, block='BasicBlock', num_blocks=1, num_units=2,
                       norm_cfg=BN)
    cfg['decode_head'].update(in_index=4)
    model = MODELS.build(cfg)
    assert model.output_stride == model.backbone.output_stride == model.neck.output_stride == 8
    assert model.decode_head.output_stride == 8
    assert model.neck.rates == (8,)  # block4 has rate 4 at output stride 8, block5 twice that


@pytest.mark.parametrize('change, error, message', [
    (lambda c: c['backbone'].update(strides=(1, 2, 1, 1)), ValueError,
     r'backbone.strides=\(1, 2, 1, 1\) .* not both. Remove model.backbone.strides'),
    (lambda c: c['backbone'].update(output_stride=16), ValueError,
     r'model.output_stride=8 but model.backbone.output_stride=16: .* Move output_stride from model.backbone to model'),
    (lambda c: c['decode_head'].update(output_stride=32), ValueError, 'model.decode_head.output_stride=32'),
    (lambda c: c.update(backbone=dict(type=nn.Identity)), TypeError,
     r'model.backbone \(type=.*Identity.*\) takes no output_stride'),
])
def test_model_output_stride_conflicts_are_refused(change, error, message):
    cfg = knob_model_cfg(8)
    change(cfg)
    with pytest.raises(error, match=message):
        MODELS.build(cfg)


@pytest.mark.parametrize('config', ['configs/deeplabv3plus/mobilenetv2_256x256_camvid.py',
                                    'configs/deeplabv3/r101_513x513_voc_paper.py'])
def test_test_tool_output_stride_switches_the_config(config, tmp_path):
    sys.path.insert(0, str(REPO / 'tools'))
    import test as test_tool
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'')
    args = test_tool.parse_args([str(REPO / config), str(ckpt), '--output-stride', '8', '--tta'])
    cfg = test_tool.build_config(args)
    assert cfg.model.output_stride == 8 and cfg.model.test_cfg.tta.flip
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    model_cfg.backbone.norm_cfg = model_cfg.decode_head.norm_cfg = BN
    model = MODELS.build(model_cfg)
    assert model.backbone.dilations[-1] == 4 and model.decode_head.dilations == (1, 12, 24, 36)
    with pytest.raises(SystemExit):
        test_tool.parse_args([str(REPO / config), str(ckpt), '--output-stride', '4'])


@pytest.mark.parametrize('config', ['configs/deeplabv3plus/xception65_512x512_voc.py',
                                    'configs/torchvision/deeplabv3_mobilenetv3_large_torchvision.py',
                                    'configs/torchvision/deeplabv3_r50_torchvision.py'])
def test_test_tool_output_stride_switches_configs_of_every_backbone_family(config, tmp_path):
    """The issue's command: tools/test.py configs/deeplabv3plus/xception65_512x512_voc.py CKPT --output-stride 8
    (the Xception, MobileNetV3 and torchvision configs once set the stride on the backbone or spelt its tuples)."""
    sys.path.insert(0, str(REPO / 'tools'))
    import test as test_tool
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'')
    cfg = test_tool.build_config(test_tool.parse_args([str(REPO / config), str(ckpt), '--output-stride', '8']))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    with torch.device('meta'):  # full-size networks: shapes only
        model = MODELS.build(model_cfg).eval()
        feats = model.backbone(torch.empty(1, 3, 64, 64))
    assert model.backbone.output_stride == 8 and feats[-1].shape[-1] == 8
    rates_at_8 = (1, 24, 48, 72) if 'mobilenetv3' in config else (1, 12, 24, 36)  # torchvision's: (12, 24, 36) at 16
    assert model.decode_head.dilations == rates_at_8
