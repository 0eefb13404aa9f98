"""Backbones of any input band count from RGB weights: the first convolution keeps the RGB filters exactly up to
the 3/N factor, further bands get their mean, on every backbone and every loading route."""
import pytest
import torch
import torchvision

from segkit.models.backbones.input_channels import expand_input_conv
from segkit.registry import BACKBONES, MODELS
from tests.conftest import MOBILENET_WEIGHTS
from tests.helpers import tiny_deeplabv3plus

BACKBONE_CFGS = [
    dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8),
    dict(type='ResNetV1b', depth=18, stem_channels=8, base_channels=8),
    dict(type='MobileNetV2', widen_factor=0.25),
    dict(type='MobileNetV3'),
    dict(type='VGG16', base_channels=4),
    dict(type='Xception', depth=41),
]


def test_expansion_keeps_rgb_filters_and_gives_new_bands_their_mean():
    weight = torch.randn(5, 3, 3, 3)
    four = expand_input_conv(weight, 4)
    assert four.shape == (5, 4, 3, 3)
    assert torch.equal(four[:, :3], weight * 0.75)  # the RGB filters, rescaled by 3/4 and nothing else
    assert torch.allclose(four[:, 3], weight.mean(dim=1) * 0.75)
    six = expand_input_conv(weight, 6)
    assert torch.equal(six[:, :3], weight * 0.5) and torch.allclose(six[:, 5], weight.mean(dim=1) * 0.5)
    one = expand_input_conv(weight, 1)  # a single band: the sum of the RGB filters
    assert torch.allclose(one[:, 0], weight.sum(dim=1), atol=1e-6)
    # an image whose bands repeat the grey value gives the same response as the RGB filters on grey RGB
    grey = torch.rand(1, 1, 8, 8)
    rgb_response = torch.nn.functional.conv2d(grey.expand(1, 3, 8, 8), weight)
    assert torch.allclose(torch.nn.functional.conv2d(grey.expand(1, 6, 8, 8), six), rgb_response, atol=1e-5)
    with pytest.raises(ValueError, match='out x 3 x k x k'):
        expand_input_conv(torch.randn(5, 4, 3, 3), 6)


@pytest.mark.parametrize('cfg', BACKBONE_CFGS, ids=[c['type'] for c in BACKBONE_CFGS])
def test_every_backbone_loads_rgb_weights_into_four_bands(cfg):
    rgb = BACKBONES.build(dict(cfg))
    four = BACKBONES.build(dict(cfg, in_channels=4))
    state = rgb.state_dict()
    four.load_state_dict(state)
    loaded = four.state_dict()
    key = four.first_conv
    assert loaded[key].shape[1] == 4
    assert torch.equal(loaded[key][:, :3], state[key] * 0.75)
    assert torch.allclose(loaded[key][:, 3], state[key].mean(dim=1) * 0.75)
    assert all(torch.equal(loaded[k], v) for k, v in state.items() if k != key)
    outputs = four(torch.randn(1, 4, 64, 64))
    assert len(outputs) >= 1


def test_torchvision_names_are_renamed_before_the_expansion():
    torch.manual_seed(0)
    reference = torchvision.models.resnet18()
    backbone = BACKBONES.build(dict(type='ResNetV1b', depth=18, in_channels=5))
    backbone.load_state_dict({k: v for k, v in reference.state_dict().items() if not k.startswith('fc.')})
    assert torch.equal(backbone.stem[0].weight.detach()[:, :3], reference.conv1.weight.detach() * 0.6)


def test_a_segmentor_checkpoint_of_rgb_weights_loads_under_its_prefix():
    rgb = MODELS.build(tiny_deeplabv3plus())
    cfg = tiny_deeplabv3plus()
    cfg['backbone']['in_channels'] = 4
    cfg['data_preprocessor'].update(mean=[0, 0, 0, 0], std=[1, 1, 1, 1])
    four = MODELS.build(cfg)
    missing, unexpected = four.load_state_dict(rgb.state_dict(), strict=False)
    assert not missing and not unexpected
    assert torch.equal(four.backbone.stem[0].weight[:, :3], rgb.backbone.stem[0].weight * 0.75)


def test_bad_in_channels_is_named():
    with pytest.raises(ValueError, match='MobileNetV2: in_channels=0 must be an int >= 1'):
        BACKBONES.build(dict(type='MobileNetV2', in_channels=0))


@pytest.mark.skipif(not MOBILENET_WEIGHTS.exists(), reason='needs $SEGKIT_WEIGHTS/mobilenet_v2-b0353104.pth')
def test_imagenet_mobilenet_v2_file_initialises_a_four_band_backbone():
    backbone = BACKBONES.build(dict(type='MobileNetV2', in_channels=4,
                                    init_cfg=dict(type='Pretrained', checkpoint=str(MOBILENET_WEIGHTS))))
    backbone.init_weights()
    imagenet = torch.load(MOBILENET_WEIGHTS, map_location='cpu', weights_only=True)['features.0.0.weight']
    weight = backbone.stem.conv.weight.detach()
    assert torch.equal(weight[:, :3], imagenet * 0.75)
    assert torch.allclose(weight[:, 3], imagenet.mean(dim=1) * 0.75)
