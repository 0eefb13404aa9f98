"""ResNetV1b and MobileNetV3: the same features as torchvision's resnet / mobilenet_v3_large from their weights."""
import pytest
import torch
import torchvision

from segkit.models.backbones import MobileNetV3, ResNetV1b
from segkit.models.backbones.convert_mobilenet_v3 import convert_torchvision_mobilenet_v3
from segkit.registry import BACKBONES
from tests.test_backbones import randomize_bn


def torchvision_resnet_features(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    outs = []
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        x = layer(x)
        outs.append(x)
    return outs


def test_resnet_v1b_loads_a_torchvision_file_through_init_cfg(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18().eval()
    randomize_bn(reference)
    path = tmp_path / 'resnet18.pth'
    torch.save(reference.state_dict(), path)  # conv1 / bn1 / layerN / fc keys, as torchvision's ImageNet file
    model = BACKBONES.build(dict(type='ResNetV1b', depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    model.eval()
    assert model.stem[0].kernel_size == (7, 7) and model.stem[0].stride == (2, 2)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for out, expected in zip(model(x), torchvision_resnet_features(reference, x)):
            torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_resnet_v1b_dilation_is_torchvisions():
    """replace_stride_with_dilation=[False, True, True]: the first block of layer3 / layer4 keeps rate 1 / 2."""
    model = ResNetV1b(depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
    reference = torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True])
    for name in ('layer3', 'layer4'):
        ours = [(b.conv2.stride, b.conv2.dilation) for b in getattr(model, name)]
        theirs = [(b.conv2.stride, b.conv2.dilation) for b in getattr(reference, name)]
        assert ours == theirs
    assert set(model.state_dict()) == {k.replace('conv1.', 'stem.0.', 1) if k.startswith('conv1.') else
                                       k.replace('bn1.', 'stem.1.', 1) if k.startswith('bn1.') else k
                                       for k in reference.state_dict() if not k.startswith('fc.')}


def torchvision_mobilenet_v3(dilated):
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_large(dilated=dilated).eval()
    randomize_bn(model)
    return model


@pytest.mark.parametrize('dilated, output_stride', [(True, 16), (False, 32)])
def test_mobilenet_v3_features_match_torchvision(dilated, output_stride):
    reference = torchvision_mobilenet_v3(dilated)
    model = MobileNetV3(output_stride=output_stride, out_indices=tuple(range(17))).eval()
    state = reference.state_dict()
    converted, unused = convert_torchvision_mobilenet_v3(state)
    model.load_state_dict(converted, strict=True)
    assert unused == ['classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'classifier.3.bias']
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs = model(x)
        for i, layer in enumerate(reference.features):
            x = layer(x)
            torch.testing.assert_close(outs[i], x, rtol=0, atol=1e-5, msg=f'layer {i}')
    assert outs[-1].shape[-1] == 64 // output_stride


@pytest.mark.parametrize('output_stride, sizes, last_dilations', [
    (32, (16, 8, 4, 2), (1, 1, 1)), (16, (16, 8, 4, 4), (2, 2, 2)), (8, (16, 8, 8, 8), (4, 4, 4)),
    (None, (16, 8, 4, 2), (1, 1, 1))])
def test_mobilenet_v3_output_stride(output_stride, sizes, last_dilations):
    model = MobileNetV3(output_stride=output_stride).eval()
    assert model.output_stride == (output_stride or 32)
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == list(sizes)
    assert [o.shape[1] for o in outs] == list(model.out_channels) == [24, 40, 112, 960]
    assert tuple(getattr(model, f'layer{i}').depthwise.conv.dilation[0] for i in (13, 14, 15)) == last_dilations
    # the strided block itself takes the new rate (torchvision's convention, unlike ResNet's)
    assert model.layer7.depthwise.conv.dilation[0] == (2 if output_stride == 8 else 1)
    assert model.layer13.depthwise.conv.padding[0] == 2 * last_dilations[0]  # 5x5 kernel


def test_mobilenet_v3_init_cfg_loads_a_torchvision_file(tmp_path):
    reference = torchvision_mobilenet_v3(dilated=False)
    path = tmp_path / 'mobilenet_v3_large.pth'
    torch.save(reference.state_dict(), path)
    model = BACKBONES.build(dict(type='MobileNetV3', out_indices=(16,),
                                 init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], reference.features(x), rtol=0, atol=1e-5)
    partial = {k: v for k, v in reference.state_dict().items() if not k.startswith('features.16.')}
    torch.save(partial, path)
    with pytest.raises(KeyError, match=r'5 MobileNetV3 weights are missing.*last_conv\.conv\.weight'):
        MobileNetV3().load_pretrained(str(path))


def test_mobilenet_v3_frozen_stages_and_norm_eval():
    model = MobileNetV3(frozen_stages=3, norm_eval=True).train()
    assert not any(p.requires_grad for p in model.layer3.parameters())
    assert all(p.requires_grad for p in model.layer4.parameters())
    assert not model.layer4.depthwise.bn.training and model.stem.bn.eps == 1e-3


@pytest.mark.parametrize('kwargs, message', [
    (dict(output_stride=4), 'output_stride=4'), (dict(out_indices=(17,)), 'out_indices'),
    (dict(frozen_stages=17), 'frozen_stages=17')])
def test_mobilenet_v3_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MobileNetV3(**kwargs)
