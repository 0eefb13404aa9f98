"""The inverted residual block of MobileNetV2 (Sandler et al. 2018, Sec. 3.3 and Table 1), with MobileNetV3's
additions (Howard et al. 2019, Sec. 5): larger depthwise kernels and squeeze-and-excitation."""
from typing import Optional

from mmcv.cnn import ConvModule
from torch import Tensor, nn

from .squeeze_excitation import SqueezeExcitation


class InvertedResidual(nn.Module):
    """Bottleneck with an inverted residual: 1x1 ``expand`` by ``expand_ratio`` (absent when it is 1), a
    ``depthwise`` conv (3x3 unless ``kernel_size``) carrying the stride and the dilation, and a linear 1x1
    ``project`` (no activation, the paper's "linear bottleneck"). The input is added back (``use_residual``) when
    stride is 1 and the channels match.

    MobileNetV3 blocks set ``kernel_size`` (3 or 5) of the depthwise conv and ``squeeze_channels`` for a
    :class:`SqueezeExcitation` ``se`` between the depthwise and the projection.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: float = 6,
                 dilation: int = 1, norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='ReLU6'),
                 kernel_size: int = 3, squeeze_channels: Optional[int] = None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'InvertedResidual: stride={stride} must be 1 or 2')
        hidden = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = None
        if expand_ratio != 1:
            self.expand = ConvModule(in_channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.depthwise = ConvModule(hidden, hidden, kernel_size, stride=stride, padding=kernel_size // 2 * dilation,
                                    dilation=dilation, groups=hidden, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.se = None if squeeze_channels is None else SqueezeExcitation(hidden, squeeze_channels)
        self.project = ConvModule(hidden, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.depthwise(out)
        if self.se is not None:
            out = self.se(out)
        out = self.project(out)
        return x + out if self.use_residual else out
