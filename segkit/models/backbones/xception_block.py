"""The residual unit of the modified aligned Xception (DeepLabv3+, arXiv:1802.02611, Sec. 3.2 and Fig. 4)."""
from typing import Optional, Sequence, Tuple

from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule, build_activation_layer
from torch import Tensor, nn


class XceptionBlock(nn.Module):
    """Three 3x3 depthwise separable convs (``convs.0..2``), the last one carrying the stride, plus a shortcut.

    Every max pooling of the original Xception becomes the stride of ``convs.2``; BN follows each depthwise and
    each pointwise conv. Two forms, as in the released DeepLab (TensorFlow) and timm models:

    * ``preactivation=True`` (entry / middle flow, first exit block): ReLU *before* each separable conv, none
      inside it; the input is added back through ``shortcut`` (a strided 1x1 conv + BN when the stride or the
      width changes, else the identity).
    * ``preactivation=False`` (last exit block): ReLU after both the depthwise and the pointwise BN, and no
      residual (``residual=False``).

    ``forward`` returns the block output and the input of ``convs.2`` (after its ReLU): the last full-resolution
    map of a strided block, which the backbone exposes as the features at that stride (the v3+ decoder's
    low-level features are the one at stride 4).
    """

    def __init__(self, in_channels: int, channels: Sequence[int], stride: int = 1, dilation: int = 1,
                 residual: bool = True, preactivation: bool = True, norm_cfg: Optional[dict] = None,
                 act_cfg: dict = dict(type='ReLU')):
        super().__init__()
        if len(channels) != 3:
            raise ValueError(f'XceptionBlock: channels={tuple(channels)} needs 3 widths, one per separable conv')
        convs = []
        for i, width in enumerate(channels):
            convs.append(DepthwiseSeparableConvModule(
                in_channels if i == 0 else channels[i - 1], width, 3, stride=stride if i == 2 else 1,
                padding=dilation, dilation=dilation, norm_cfg=norm_cfg, act_cfg=None if preactivation else act_cfg))
        self.convs = nn.ModuleList(convs)
        self.act = None
        if preactivation:
            self.act = build_activation_layer(act_cfg)
            if hasattr(self.act, 'inplace'):  # the block input is also the shortcut's input
                self.act.inplace = False
        self.residual = residual
        self.shortcut = None
        if residual and (stride != 1 or in_channels != channels[-1]):
            self.shortcut = ConvModule(in_channels, channels[-1], 1, stride=stride, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        out = x
        for conv in self.convs:
            if self.act is not None:
                out = self.act(out)
            before_last = out
            out = conv(out)
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return out, before_last
