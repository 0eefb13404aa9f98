"""Heads learn their inputs from the backbone's feature_info: a config names the timm model only; given values win,
contradictions are errors naming both, and backbones without feature_info keep needing explicit values."""
import pytest
import torch

from segkit.models.feature_info import FeatureSpec, with_feature_info
from segkit.registry import HEADS, MODELS
from tests.helpers import tiny_deeplabv3plus

pytest.importorskip('timm', reason="TimmBackbone needs timm (pip install -e '.[hub]')")


def issue_config(output_stride):
    """The issue's config, as it is: nothing but the timm model, the head's width and the classes."""
    return dict(type='EncoderDecoder', output_stride=output_stride,
                data_preprocessor=dict(type='SegDataPreProcessor', size_divisor=32),
                backbone=dict(type='TimmBackbone', model_name='convnext_tiny', pretrained=False),
                decode_head=dict(type='DepthwiseSeparableASPPHead', channels=64, num_classes=5))


@pytest.mark.parametrize('output_stride', [8, 16])
def test_the_issue_config_builds_and_runs(output_stride):
    model = MODELS.build(issue_config(output_stride)).eval()
    head = model.decode_head
    # convnext's stem is stride 4, so its first stage is the decoder's stride-4 feature
    assert model.backbone.feature_info == (FeatureSpec(96, 4), FeatureSpec(192, 8),
                                           FeatureSpec(384, min(16, output_stride)), FeatureSpec(768, output_stride))
    assert (head.in_channels, head.in_index, head.low_level_index) == (768, 3, 0)
    assert head.decoder.low_level_proj.conv.in_channels == 96
    assert head.dilations == ((1, 6, 12, 18) if output_stride == 16 else (1, 12, 24, 36))
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 64, 96), mode='tensor')
    assert logits.shape == (1, 5, 16, 24)  # the decoder's stride 4


def _tiny(**head):
    return dict(type='EncoderDecoder', output_stride=16,
                backbone=dict(type='TimmBackbone', model_name='test_efficientnet'),
                decode_head=dict(type='DepthwiseSeparableASPPHead', channels=8, num_classes=3, **head))


def test_efficientnet_stride_4_is_its_second_feature():
    model = MODELS.build(_tiny())
    assert [s.reduction for s in model.backbone.feature_info] == [2, 4, 8, 16, 16]
    head = model.decode_head
    assert (head.in_index, head.low_level_index) == (4, 1)
    assert (head.in_channels, head.decoder.low_level_proj.conv.in_channels) == tuple(
        model.backbone.feature_info[i].channels for i in (4, 1))


def test_given_values_win_and_the_aux_head_is_filled():
    cfg = _tiny(in_index=3, low_level_index=0)
    cfg['auxiliary_head'] = dict(type='FCNHead', in_index=2, channels=4, num_classes=3)
    model = MODELS.build(cfg)
    info = model.backbone.feature_info
    assert model.decode_head.in_channels == info[3].channels
    assert model.decode_head.decoder.low_level_proj.conv.in_channels == info[0].channels
    assert model.auxiliary_heads[0].in_channels == info[2].channels
    assert MODELS.build(_tiny(in_index=-2)).decode_head.in_channels == info[3].channels


@pytest.mark.parametrize('head, message', [
    (dict(in_channels=100), r'model.decode_head.in_channels=100, but feature 4 \(stride 16\) has \d+ channels .*'
                            r'remove model.decode_head.in_channels'),
    (dict(low_level_in_channels=7), r'low_level_in_channels=7, but feature 1 \(stride 4\) has \d+ channels'),
    (dict(in_index=5), r'in_index=5, but .* returns 5 features .*use an index in \[0, 4\]'),
    (dict(in_index=[1, 9]), r'in_index=9'),
])
def test_contradictions_name_both_values(head, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(_tiny(**head))


def test_no_stride_4_feature_says_what_to_do():
    cfg = _tiny()
    cfg['backbone']['out_indices'] = (2, 3, 4)
    with pytest.raises(ValueError, match=r'reads the stride-4 feature, but model.backbone \(type=TimmBackbone\) '
                                         r'returns none \(0: \d+ ch @ /8.*out_indices.*low_level_in_channels=0'):
        MODELS.build(cfg)
    cfg['decode_head']['low_level_in_channels'] = 0  # ASPP alone
    assert MODELS.build(cfg).decode_head.decoder is None


def test_backbones_without_feature_info_keep_explicit_values():
    cfg = tiny_deeplabv3plus()
    assert MODELS.build(cfg).decode_head.in_channels == 64  # unchanged: the existing configs
    del cfg['decode_head']['in_channels']
    with pytest.raises(ValueError, match=r'model.decode_head.in_channels is not set and model.backbone '
                                         r'\(type=ResNetV1c\) does not report its features'):
        MODELS.build(cfg)


def test_a_list_in_index_takes_a_list_of_channels():
    info = (FeatureSpec(8, 4), FeatureSpec(16, 8), FeatureSpec(32, 16))
    cfg = with_feature_info('decode_head', dict(type='FCNHead', in_index=[0, 2]), HEADS, info, 'x')
    assert cfg['in_channels'] == [8, 32]
    assert with_feature_info('decode_head', dict(type='FCNHead'), HEADS, info, 'x') == dict(
        type='FCNHead', in_index=2, in_channels=32)
