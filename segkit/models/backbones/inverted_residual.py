"""The inverted residual block of MobileNetV2 (Sandler et al. 2018, Sec. 3.3 and Table 1)."""
from mmcv.cnn import ConvModule
from torch import Tensor, nn


class InvertedResidual(nn.Module):
    """Bottleneck with an inverted residual: 1x1 ``expand`` by ``expand_ratio`` (absent when it is 1), 3x3
    ``depthwise`` conv carrying the stride and the dilation, and a linear 1x1 ``project`` (no activation, the paper's
    "linear bottleneck"). The input is added back (``use_residual``) when stride is 1 and the channels match.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: float = 6,
                 dilation: int = 1, norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='ReLU6')):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'InvertedResidual: stride={stride} must be 1 or 2')
        hidden = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = None
        if expand_ratio != 1:
            self.expand = ConvModule(in_channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.depthwise = ConvModule(hidden, hidden, 3, stride=stride, padding=dilation, dilation=dilation,
                                    groups=hidden, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.project = ConvModule(hidden, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        return x + out if self.use_residual else out
