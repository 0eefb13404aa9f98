"""Fully convolutional head (Long et al. 2015); in DeepLab configs the auxiliary head on stage 3."""
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from segkit.registry import HEADS

from .decode_head import DecodeHead


@HEADS.register_module()
class FCNHead(DecodeHead):
    """``num_convs`` convs (kernel ``kernel_size``, dilation ``dilation``) then the classifier; with
    ``concat_input`` the input is concatenated to their output and fused by one more conv."""

    def __init__(self, *, num_convs: int = 2, kernel_size: int = 3, concat_input: bool = True, dilation: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        if num_convs == 0 and self.in_channels != self.channels:
            raise ValueError(f'FCNHead: num_convs=0 needs in_channels == channels, got {self.in_channels} and '
                             f'{self.channels}')
        pad = kernel_size // 2 * dilation
        conv_args = dict(padding=pad, dilation=dilation, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.convs = nn.Sequential(*[
            ConvModule(self.in_channels if i == 0 else self.channels, self.channels, kernel_size, **conv_args)
            for i in range(num_convs)]) if num_convs else nn.Identity()
        self.conv_cat = ConvModule(self.in_channels + self.channels, self.channels, kernel_size,
                                   padding=kernel_size // 2, norm_cfg=self.norm_cfg,
                                   act_cfg=self.act_cfg) if concat_input else None

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.select_inputs(inputs)
        out = self.convs(x)
        if self.conv_cat is not None:
            out = self.conv_cat(torch.cat([x, out], dim=1))
        return out
