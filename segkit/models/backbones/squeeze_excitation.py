"""Squeeze-and-excitation (Hu et al. 2018) in the form MobileNetV3 uses (Howard et al. 2019, Sec. 5.3)."""
import torch.nn.functional as F
from torch import Tensor, nn


class SqueezeExcitation(nn.Module):
    """Channel attention: global average pool, 1x1 conv ``reduce`` to ``squeeze_channels`` + ReLU, 1x1 conv
    ``expand`` back + hard-sigmoid, and the input scaled by the result."""

    def __init__(self, channels: int, squeeze_channels: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeeze_channels, 1)
        self.expand = nn.Conv2d(squeeze_channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        scale = F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1)))
        return x * F.hardsigmoid(self.expand(scale))
