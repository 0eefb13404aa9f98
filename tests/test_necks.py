"""CascadedBlocks: DeepLabv3's block5-block7 ("going deeper with atrous convolution", section 3.2)."""
import pytest
import torch
from mmengine.registry import MODELS

from segkit.models.necks import CascadedBlocks
from segkit.registry import NECKS
from tests.helpers import BN


def rates_3x3(neck, conv='conv2'):
    return [[getattr(unit, conv).dilation[0] for unit in block] for block in neck.blocks]


@pytest.mark.parametrize('output_stride, block4_rate', [(16, 2), (8, 4), (32, 1)])
def test_each_added_block_doubles_the_rate_and_multi_grid_multiplies_it(output_stride, block4_rate):
    neck = CascadedBlocks(in_channels=32, output_stride=output_stride, multi_grid=(1, 2, 1), norm_cfg=BN)
    r5, r6, r7 = (block4_rate * 2 ** k for k in (1, 2, 3))
    assert neck.rates == (r5, r6, r7)
    assert rates_3x3(neck) == [[r5, 2 * r5, r5], [r6, 2 * r6, r6], [r7, 2 * r7, r7]]
    for block in neck.blocks:
        for unit in block:
            assert unit.conv2.padding == unit.conv2.dilation and unit.conv2.stride == (1, 1)
            assert unit.downsample is None  # identity shortcuts, as block4's later units
            assert unit.conv1.dilation == unit.conv3.dilation == (1, 1)


def test_paper_rates_at_output_stride_16_without_multi_grid():
    neck = NECKS.build(dict(type='CascadedBlocks', in_channels=32, norm_cfg=BN))
    assert rates_3x3(neck) == [[4] * 3, [8] * 3, [16] * 3]  # block5, block6, block7 of Fig. 3(b)


def test_outputs_keep_resolution_and_channels_and_follow_the_inputs():
    neck = CascadedBlocks(in_channels=32, num_blocks=2, norm_cfg=BN).eval()
    inputs = (torch.rand(1, 8, 16, 16), torch.rand(1, 32, 4, 4))
    outs = neck(inputs)
    assert len(outs) == 4 and outs[0] is inputs[0] and outs[1] is inputs[1]
    assert [tuple(o.shape) for o in outs[2:]] == [(1, 32, 4, 4)] * 2
    assert not torch.equal(outs[2], outs[3])


def test_fresh_units_start_as_the_identity():
    neck = CascadedBlocks(in_channels=32, norm_cfg=BN)
    neck.init_weights()
    neck.eval()
    x = torch.rand(1, 32, 6, 6)  # non-negative, as a ReLU output
    assert torch.equal(neck([x])[-1], x)
    assert all(unit.last_norm.weight.abs().sum() == 0 for block in neck.blocks for unit in block)


def test_basic_block_units_dilate_their_first_conv():
    neck = CascadedBlocks(in_channels=16, block='BasicBlock', num_units=2, multi_grid=(1, 2), norm_cfg=BN)
    assert rates_3x3(neck, 'conv1') == [[4, 8], [8, 16], [16, 32]]


def test_zero_blocks_pass_the_features_through():
    neck = CascadedBlocks(in_channels=32, num_blocks=0, norm_cfg=BN)
    inputs = (torch.rand(1, 32, 4, 4),)
    assert neck(inputs) == inputs


def test_cascade_in_a_model_keeps_the_output_stride():
    cfg = dict(type='EncoderDecoder', output_stride=16,
               backbone=dict(type='ResNetV1c', depth=50, stem_channels=8, base_channels=4, multi_grid=(1, 2, 1),
                             norm_cfg=BN),
               neck=dict(type='CascadedBlocks', in_channels=128, multi_grid=(1, 2, 1), norm_cfg=BN),
               decode_head=dict(type='FCNHead', in_channels=128, channels=128, num_convs=0, concat_input=False,
                                num_classes=3, norm_cfg=BN))
    model = MODELS.build(cfg).eval()
    assert [b.conv2.dilation[0] for b in model.backbone.layer4] == [2, 4, 2]  # block4
    assert model.neck.rates == (4, 8, 16)
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
        logits = model(torch.rand(1, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 4, 4, 4, 4]
    assert logits.shape == (1, 3, 4, 4)


@pytest.mark.parametrize('kwargs, message', [
    (dict(in_channels=32, multi_grid=(1, 2)), r'multi_grid=\(1, 2\) needs one positive int per unit'),
    (dict(in_channels=30), 'multiple of 4'),
    (dict(in_channels=32, block='Basic'), 'block='),
    (dict(in_channels=32, output_stride=4), 'output_stride=4'),
    (dict(in_channels=32, num_blocks=-1), 'num_blocks=-1'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CascadedBlocks(norm_cfg=BN, **kwargs)
