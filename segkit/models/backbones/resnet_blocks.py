"""Residual blocks of ResNet (He et al. 2016, Sec. 3.3 and Fig. 5), with MMSegmentation's attribute names.

The norm layers are called ``bn1``/``bn2``/``bn3`` (``gn1``... with GroupNorm) and the projection shortcut is
``downsample`` = Sequential(1x1 conv, norm), so MMSegmentation checkpoints load key for key.
"""
from typing import Optional, Sequence

from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from torch import Tensor, nn


def projection_shortcut(in_channels: int, out_channels: int, stride: int, norm_cfg: dict) -> nn.Sequential:
    """The "projection shortcut" (option B in the paper): a strided 1x1 conv and a norm layer."""
    conv = build_conv_layer(None, in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
    return nn.Sequential(conv, build_norm_layer(norm_cfg, out_channels)[1])


class BasicBlock(nn.Module):
    """Two 3x3 convs ("building block", Fig. 5 left).

    As in MMSegmentation, only the first conv is strided and dilated; the second keeps dilation 1, so models trained
    there give the same outputs here.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU', inplace=True)):
        super().__init__()
        self.conv1 = build_conv_layer(None, in_channels, channels, 3, stride=stride, padding=dilation,
                                      dilation=dilation, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(None, channels, channels, 3, padding=1, bias=False)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, channels, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.downsample = downsample
        self.act = build_activation_layer(act_cfg)

    @property
    def last_norm(self) -> nn.Module:
        """The norm layer before the addition; ``zero_init_residual`` sets its weight to 0."""
        return getattr(self, self.norm2_name)

    def forward(self, x: Tensor) -> Tensor:
        out = self.act(getattr(self, self.norm1_name)(self.conv1(x)))
        out = getattr(self, self.norm2_name)(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand ("bottleneck building block", Fig. 5 right).

    The stride and the dilation sit on the 3x3 conv (torchvision / "pytorch" style).
    """

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU', inplace=True)):
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = build_conv_layer(None, in_channels, channels, 1, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(None, channels, channels, 3, stride=stride, padding=dilation,
                                      dilation=dilation, bias=False)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, channels, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(None, channels, out_channels, 1, bias=False)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, out_channels, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.downsample = downsample
        self.act = build_activation_layer(act_cfg)

    @property
    def last_norm(self) -> nn.Module:
        """The norm layer before the addition; ``zero_init_residual`` sets its weight to 0."""
        return getattr(self, self.norm3_name)

    def forward(self, x: Tensor) -> Tensor:
        out = self.act(getattr(self, self.norm1_name)(self.conv1(x)))
        out = self.act(getattr(self, self.norm2_name)(self.conv2(out)))
        out = getattr(self, self.norm3_name)(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.act(out + identity)


def residual_stage(block: type, in_channels: int, channels: int, num_blocks: int, stride: int,
                   dilations: Sequence[int], norm_cfg: dict, act_cfg: dict) -> nn.Sequential:
    """A ResNet stage: ``num_blocks`` blocks of width ``channels``, the first strided, block ``i`` of dilation
    ``dilations[i]``; a projection shortcut where the first block changes the size or the channels."""
    out_channels = channels * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = projection_shortcut(in_channels, out_channels, stride, norm_cfg)
    blocks = [block(in_channels, channels, stride=stride, dilation=dilations[0], downsample=downsample,
                    norm_cfg=norm_cfg, act_cfg=act_cfg)]
    for dilation in dilations[1:]:
        blocks.append(block(out_channels, channels, dilation=dilation, norm_cfg=norm_cfg, act_cfg=act_cfg))
    return nn.Sequential(*blocks)
