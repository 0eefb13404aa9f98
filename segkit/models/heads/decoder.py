"""The DeepLabv3+ decoder (Chen et al. 2018, arXiv:1802.02611) section 3.1 and Fig. 2."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule


class DeepLabV3PlusDecoder(nn.Module):
    """Refines the encoder output with low-level (output stride 4) backbone features.

    The low-level features are reduced by a 1x1 conv to ``low_level_channels`` (48 in the paper, so they do not
    outweigh the encoder's rich features), the encoder output is bilinearly upsampled to their size, the two are
    concatenated (encoder first) and fused by two 3x3 convs (``separable``: atrous-separable ones, as the
    paper's Xception model).
    """

    def __init__(self, *, low_level_in_channels: int, encoder_channels: int, channels: int,
                 low_level_channels: int = 48, num_convs: int = 2, separable: bool = True,
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = dict(type='ReLU'),
                 align_corners: bool = False):
        super().__init__()
        self.align_corners = align_corners
        conv_args = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.low_level_proj = ConvModule(low_level_in_channels, low_level_channels, 1, **conv_args)
        conv = DepthwiseSeparableConvModule if separable else ConvModule
        in_ch = encoder_channels + low_level_channels
        self.fuse = nn.Sequential(*[conv(in_ch if i == 0 else channels, channels, 3, padding=1, **conv_args)
                                    for i in range(num_convs)])

    def forward(self, encoder_out: torch.Tensor, low_level: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(encoder_out, size=low_level.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return self.fuse(torch.cat([up, self.low_level_proj(low_level)], dim=1))
