"""DeepLab's VGG16 backbone, its torchvision key mapping, and the fc6/fc7 decimation of DeepLab v1."""
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from segkit.models.backbones import VGG16
from segkit.models.backbones.convert_vgg import (LARGEFOV_TAPS, convert_torchvision_vgg16, decimate_vgg16_fc,
                                                 unused_torchvision_vgg16_keys)
from segkit.models.heads.atrous_fc import AtrousFC, load_imagenet_fc
from segkit.registry import BACKBONES

# output stride -> spatial sizes of pool1..pool5 for a 64x64 input
SIZES = {8: (32, 16, 8, 8, 8), 16: (32, 16, 8, 4, 4), 32: (32, 16, 8, 4, 2)}
# torchvision's vgg16 `features`: index of the last module of each block (its max-pool) and of the conv5 convs
TV_POOLS, TV_CONV5 = (4, 9, 16, 23, 30), (24, 26, 28)
TV_BN_POOLS, TV_BN_CONV5 = (6, 13, 23, 33, 43), (34, 37, 40)
WIDTH = 8  # base_channels of the models compared with torchvision's layers


def tv_features(batch_norm=False, seed=0, width=WIDTH):
    """torchvision's vgg16 / vgg16_bn ``features`` (``torchvision.models.vgg16()`` builds them with the same
    function from configuration 'D'), ``width / 64`` as wide to keep the test fast, random weights."""
    torch.manual_seed(seed)
    cfg = [v if v == 'M' else v * width // 64 for v in torchvision.models.vgg.cfgs['D']]
    features = torchvision.models.vgg.make_layers(cfg, batch_norm=batch_norm)
    for m in features.modules():
        if isinstance(m, _BatchNorm):  # non-trivial statistics, so a swapped BN key changes the outputs
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return features.eval()


def deeplab_form(features, pools, conv5):
    """Turn torchvision's VGG into DeepLab's by hand: 3x3 pad-1 pools, pool4/pool5 stride 1, conv5 dilation 2."""
    for i, index in enumerate(pools):
        features[index] = nn.MaxPool2d(3, stride=2 if i < 3 else 1, padding=1)
    for index in conv5:
        features[index].dilation, features[index].padding = (2, 2), (2, 2)
    return features


@pytest.mark.parametrize('output_stride', [None, 8, 16, 32])
def test_output_stride_shapes(output_stride):
    """None is the undilated ImageNet network (output stride 32), as for every backbone; the papers' form is 8."""
    model = VGG16(output_stride=output_stride, base_channels=4).eval()
    outs = model(torch.rand(2, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == list(SIZES[output_stride or 32])
    assert [o.shape[1] for o in outs] == [4, 8, 16, 32, 32] == list(model.out_channels)
    assert model.output_stride == (output_stride or 32)


def test_paper_crop_gives_41x41():
    out = VGG16(base_channels=2, output_stride=8, out_indices=(4,)).eval()(torch.rand(1, 3, 321, 321))
    assert len(out) == 1 and out[0].shape[-2:] == (41, 41)


@pytest.mark.parametrize('output_stride, pool_strides, dilation', [
    (8, (2, 2, 2, 1, 1), 2), (16, (2, 2, 2, 2, 1), 1), (32, (2, 2, 2, 2, 2), 1), (None, (2, 2, 2, 2, 2), 1)])
def test_pools_and_conv5_dilation(output_stride, pool_strides, dilation):
    model = VGG16(output_stride=output_stride, base_channels=4)
    pools = [getattr(model, f'pool{i}') for i in range(1, 6)]
    assert [p.stride for p in pools] == list(pool_strides)
    assert all(p.kernel_size == 3 and p.padding == 1 for p in pools)
    assert [c.conv.dilation for c in model.layer5] == [(dilation, dilation)] * 3
    assert [c.conv.padding for c in model.layer5] == [(dilation, dilation)] * 3
    assert all(c.conv.dilation == (1, 1) for name in ('layer1', 'layer4') for c in getattr(model, name))
    assert [len(getattr(model, f'layer{i}')) for i in range(1, 6)] == [2, 2, 3, 3, 3]


def test_registry_and_bad_arguments():
    model = BACKBONES.build(dict(type='VGG16', base_channels=4, out_indices=(2, 4)))
    assert model.out_channels == (16, 32) and len(model(torch.rand(1, 3, 32, 32))) == 2
    with pytest.raises(ValueError, match='output_stride=4'):
        VGG16(output_stride=4)
    with pytest.raises(ValueError, match='out_indices'):
        VGG16(out_indices=(5,))


@pytest.mark.parametrize('batch_norm', [False, True])
def test_torchvision_mapping_reproduces_every_block(batch_norm):
    features = tv_features(batch_norm)
    state = {f'features.{k}': v for k, v in features.state_dict().items()}
    pools, conv5 = (TV_BN_POOLS, TV_BN_CONV5) if batch_norm else (TV_POOLS, TV_CONV5)
    model = VGG16(base_channels=WIDTH, output_stride=8, norm_cfg=dict(type='BN') if batch_norm else None).eval()
    converted = convert_torchvision_vgg16(state)
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    reference = deeplab_form(features, pools, conv5)
    x = torch.rand(1, 3, 40, 48)
    with torch.no_grad():
        for out, end in zip(model(x), pools):
            torch.testing.assert_close(out, reference[:end + 1](x), rtol=0, atol=0)


def test_mapping_matches_torchvision_conv_by_conv():
    """Every segkit conv holds the weights of the torchvision conv of the same rank (conv1_1 ... conv5_3)."""
    features = tv_features()
    model = VGG16(base_channels=WIDTH)
    model.load_state_dict(convert_torchvision_vgg16({f'features.{k}': v for k, v in features.state_dict().items()}))
    tv_convs = [m for m in features if isinstance(m, nn.Conv2d)]
    ours = [c.conv for i in range(1, 6) for c in getattr(model, f'layer{i}')]
    assert len(ours) == len(tv_convs) == 13
    for a, b in zip(ours, tv_convs):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)


def test_full_torchvision_vgg16_keys():
    with torch.device('meta'):
        state = torchvision.models.vgg16().state_dict()
    assert set(convert_torchvision_vgg16(state)) == set(VGG16().state_dict())
    assert sorted(unused_torchvision_vgg16_keys(state)) == sorted(k for k in state if k.startswith('classifier.'))


def test_init_cfg_pretrained_loads_torchvision_file(tmp_path):
    features = tv_features(seed=1)
    state = {f'features.{k}': v for k, v in features.state_dict().items()}
    state['classifier.6.bias'] = torch.zeros(3)
    path, wrapped = tmp_path / 'vgg16.pth', tmp_path / 'segmentor.pth'
    torch.save(state, path)
    x = torch.rand(1, 3, 32, 32)
    model = VGG16(base_channels=WIDTH, output_stride=8, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    expected = deeplab_form(features, TV_POOLS, TV_CONV5)(x)
    torch.testing.assert_close(model.eval()(x)[-1], expected, rtol=0, atol=0)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in model.state_dict().items()}}, wrapped)
    again = VGG16(base_channels=WIDTH, output_stride=8,
                  init_cfg=dict(type='Pretrained', checkpoint=str(wrapped), prefix='backbone.'))
    again.init_weights()
    torch.testing.assert_close(again.eval()(x)[-1], expected, rtol=0, atol=0)
    assert VGG16(base_channels=WIDTH).load_pretrained(str(path)) == ['classifier.6.bias']


def test_load_pretrained_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='download.pytorch.org/models/vgg16-397923af.pth'):
        VGG16().load_pretrained(str(tmp_path / 'absent.pth'))
    state = {f'features.{k}': v for k, v in tv_features().state_dict().items() if not k.startswith('28.')}
    torch.save(state, tmp_path / 'partial.pth')
    with pytest.raises(KeyError, match=r'missing.*layer5\.2\.conv'):
        VGG16(base_channels=WIDTH).load_pretrained(str(tmp_path / 'partial.pth'))
    with pytest.raises(KeyError, match=r'layer1\.0\.bn'):  # a plain vgg16 file for the BN variant
        VGG16(base_channels=WIDTH, norm_cfg=dict(type='BN')).load_pretrained(str(tmp_path / 'partial.pth'))
    with pytest.raises(RuntimeError, match='do not fit VGG16'):
        VGG16(base_channels=4).load_pretrained(str(tmp_path / 'partial.pth'))


def test_frozen_stages_and_norm_eval():
    model = VGG16(base_channels=4, frozen_stages=2, norm_cfg=dict(type='BN')).train()
    assert all(not p.requires_grad for name in ('layer1', 'layer2') for p in getattr(model, name).parameters())
    assert not model.layer2[1].bn.training and model.layer3[0].bn.training
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(p.requires_grad for p in VGG16(base_channels=4, frozen_stages=0).parameters())
    evaled = VGG16(base_channels=4, norm_cfg=dict(type='BN'), norm_eval=True).train()
    assert not any(m.training for m in evaled.modules() if isinstance(m, _BatchNorm))


# ------------------------------------------------------------------------------------------- fc6/fc7 decimation


def small_classifier(units=64, in_channels=8, seed=0):
    """torchvision vgg16's fc6/fc7 at a smaller width: fc6 ``units x (in_channels * 7 * 7)``, fc7 ``units^2``."""
    g = torch.Generator().manual_seed(seed)
    return {'classifier.0.weight': torch.randn(units, in_channels * 49, generator=g),
            'classifier.0.bias': torch.randn(units, generator=g),
            'classifier.3.weight': torch.randn(units, units, generator=g),
            'classifier.3.bias': torch.randn(units, generator=g)}


def test_decimated_fc6_fc7_reproduce_the_fully_connected_layers():
    """On a pool5 window that is zero except at the kept taps, the decimated 3x3 fc6 (dilation 3 on the 7x7 grid)
    gives exactly the kept units of the original fc6; fc7 likewise on the kept units."""
    state = small_classifier(units=64, in_channels=8)
    weights = decimate_vgg16_fc(state, channels=16)
    assert weights['fc6.conv.weight'].shape == (16, 8, 3, 3) and weights['fc7.conv.weight'].shape == (16, 16, 1, 1)
    keep = torch.arange(0, 64, 4)
    window = torch.zeros(1, 8, 7, 7)
    taps = torch.tensor(LARGEFOV_TAPS)
    window[:, :, taps[:, None], taps] = torch.randn(1, 8, 3, 3)
    full_fc6 = F.linear(window.flatten(1), state['classifier.0.weight'], state['classifier.0.bias'])[:, keep]
    conv_fc6 = F.conv2d(window, weights['fc6.conv.weight'], weights['fc6.conv.bias'], dilation=3)
    torch.testing.assert_close(conv_fc6.flatten(1), full_fc6)

    hidden = torch.zeros(1, 64)
    hidden[:, keep] = torch.randn(1, 16)
    full_fc7 = F.linear(hidden, state['classifier.3.weight'], state['classifier.3.bias'])[:, keep]
    conv_fc7 = F.conv2d(hidden[:, keep, None, None], weights['fc7.conv.weight'], weights['fc7.conv.bias'])
    torch.testing.assert_close(conv_fc7.flatten(1), full_fc7)


def test_decimation_errors():
    with pytest.raises(ValueError, match='channels=24 must divide the 64'):
        decimate_vgg16_fc(small_classifier(), channels=24)
    with pytest.raises(KeyError, match='classifier.3.weight'):
        decimate_vgg16_fc({k: v for k, v in small_classifier().items() if k != 'classifier.3.weight'})


def test_load_imagenet_fc_into_blocks(tmp_path):
    state = small_classifier(units=64, in_channels=8)
    torch.save(state, tmp_path / 'vgg.pth')
    blocks = [AtrousFC(in_channels=8, channels=16, dilation=d) for d in (6, 12)]
    load_imagenet_fc(blocks, str(tmp_path / 'vgg.pth'))
    weights = decimate_vgg16_fc(state, channels=16)
    for block in blocks:
        assert torch.equal(block.fc6.conv.weight, weights['fc6.conv.weight'])
        assert torch.equal(block.fc7.conv.bias, weights['fc7.conv.bias'])
    with pytest.raises(ValueError, match='in_channels=512'):
        load_imagenet_fc([AtrousFC(in_channels=4, channels=16, dilation=2)], str(tmp_path / 'vgg.pth'))
    with pytest.raises(FileNotFoundError, match='fc_checkpoint'):
        load_imagenet_fc(blocks, str(tmp_path / 'absent.pth'))
