"""DeepLab v1's DeepLab-LargeFOV head (Chen et al. 2015, arXiv:1412.7062)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from segkit.models.output_stride import scale_rates
from segkit.registry import HEADS

from .atrous_fc import AtrousFC, elementwise_dropout, load_imagenet_fc
from .decode_head import DecodeHead


@HEADS.register_module()
class LargeFOVHead(DecodeHead):
    """fc6 (3x3 conv, dilation 12 at output stride 8, 1024 channels), fc7 (1x1, 1024), ReLU and dropout 0.5 after
    each, then the classifier (fc8, initialised N(0, 0.01)). The paper's "DeepLab-LargeFOV": a 224-pixel field of
    view with a 3x3 fc6 decimated from VGG's 7x7 one.

    Args:
        dilation: fc6's atrous rate at ``dilations_output_stride``.
        dilations_output_stride: the output stride ``dilation`` is given for (8, the paper's).
        output_stride: the backbone's output stride; ``dilation`` is rescaled to it (12 at 8 is 6 at 16). None
            keeps ``dilation`` as given.
        avg_pool: a 3x3 stride-1 average pooling before fc6, ``pool5a`` of the released DeepLab-LargeFOV prototxt
            (not described in the paper's text).
        fc_checkpoint: torchvision's ImageNet ``vgg16`` file; fc6/fc7 then start from its fc6/fc7 decimated as in
            the paper (:func:`~segkit.models.backbones.convert_vgg.decimate_vgg16_fc`; needs ``in_channels=512``).
            None: fc6/fc7 start from Kaiming-normal weights.
        channels: fc6/fc7 width. ``dropout_ratio``: the dropout after fc6 and after fc7.

    Other arguments are :class:`DecodeHead`'s.
    """

    def __init__(self, *, dilation: int = 12, dilations_output_stride: int = 8, output_stride: Optional[int] = None,
                 avg_pool: bool = True, fc_checkpoint: Optional[str] = None, channels: int = 1024,
                 dropout_ratio: float = 0.5, **kwargs):
        kwargs.setdefault('in_index', -1)
        super().__init__(channels=channels, dropout_ratio=dropout_ratio, **kwargs)
        (self.dilation,) = scale_rates('LargeFOVHead', (dilation,), dilations_output_stride, output_stride)
        self.fc_checkpoint = fc_checkpoint
        self.pool = nn.AvgPool2d(3, stride=1, padding=1) if avg_pool else nn.Identity()
        self.fc = AtrousFC(in_channels=self.in_channels, channels=channels, dilation=self.dilation,
                           dropout_ratio=dropout_ratio, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.dropout = elementwise_dropout(dropout_ratio)  # drop7

    def init_weights(self) -> None:
        super().init_weights()
        if self.fc_checkpoint:
            load_imagenet_fc([self.fc], self.fc_checkpoint)

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.pool(self.select_inputs(inputs)))
