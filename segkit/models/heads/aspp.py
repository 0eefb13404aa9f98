"""Atrous Spatial Pyramid Pooling, DeepLabv3 (Chen et al. 2017, arXiv:1706.05587) section 3.3."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule


class ASPP(nn.Module):
    """Parallel atrous convolutions at several rates plus image-level pooling, concatenated and projected.

    Branches: a 1x1 conv for rate 1 and a 3x3 conv of dilation ``r`` for every other rate; each with BN and
    ReLU (DeepLabv3 adds BN to ASPP, section 3.3). The image-level branch (global average pooling, 1x1 conv,
    BN, bilinear upsampling) gives the module global context. ``separable=True`` uses the *atrous separable
    convolution* of DeepLabv3+ (section 3.2): a depthwise dilated 3x3 followed by a pointwise 1x1, each with
    BN and ReLU.

    Args:
        in_channels: channels of the backbone's last feature map.
        channels: channels of every branch and of the output (256 in the papers, 512 in MMSegmentation).
        dilations: atrous rates; rate 1 is the 1x1 branch. The papers use (1, 6, 12, 18) at output stride 16 and
            double them at output stride 8.
        image_pooling: add the image-level branch.
        separable: depthwise-separable atrous convs (DeepLabv3+).
        project_kernel_size: kernel of the projection after the concat: 1 in the papers, 3 in MMSegmentation.
    """

    def __init__(self, *, in_channels: int, channels: int, dilations: Sequence[int] = (1, 6, 12, 18),
                 image_pooling: bool = True, separable: bool = False, project_kernel_size: int = 1,
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = dict(type='ReLU'),
                 align_corners: bool = False):
        super().__init__()
        if project_kernel_size not in (1, 3):
            raise ValueError(f'ASPP: project_kernel_size must be 1 (paper) or 3 (MMSegmentation), '
                             f'got {project_kernel_size}')
        self.align_corners = align_corners
        conv_args = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvModule(in_channels, channels, 1, **conv_args)) \
            if image_pooling else None
        branches = []
        for rate in dilations:
            if rate == 1:
                branches.append(ConvModule(in_channels, channels, 1, **conv_args))
            elif separable:
                branches.append(DepthwiseSeparableConvModule(in_channels, channels, 3, padding=rate, dilation=rate,
                                                             **conv_args))
            else:
                branches.append(ConvModule(in_channels, channels, 3, padding=rate, dilation=rate, **conv_args))
        self.branches = nn.ModuleList(branches)
        num_maps = len(branches) + int(image_pooling)
        self.project = ConvModule(num_maps * channels, channels, project_kernel_size,
                                  padding=project_kernel_size // 2, **conv_args)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = []
        if self.image_pool is not None:
            pooled = self.image_pool(x)
            maps.append(F.interpolate(pooled, size=x.shape[2:], mode='bilinear', align_corners=self.align_corners))
        maps.extend(branch(x) for branch in self.branches)
        return self.project(torch.cat(maps, dim=1))
