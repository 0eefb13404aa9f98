"""torchvision's DeepLabv3 head: ASPP, dropout, and one more 3x3 conv before the classifier."""
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from segkit.registry import HEADS

from .aspp_head import ASPPHead


@HEADS.register_module()
class ASPPConvHead(ASPPHead):
    """The head of torchvision's ``deeplabv3_resnet50/101`` and ``deeplabv3_mobilenet_v3_large``
    (``torchvision.models.segmentation.deeplabv3.DeepLabHead``): the paper's ASPP (DeepLabv3, arXiv:1706.05587,
    Sec. 3.3: 1x1 and atrous 3x3 branches, image pooling, 1x1 projection, all with BN + ReLU), then dropout
    (``project_dropout``, 0.5) and a 3x3 ``conv`` + BN + ReLU of ``channels`` channels, then the classifier.

    torchvision's form is ``channels=256, dilations=(1, 12, 24, 36), dropout_ratio=0`` (no dropout right before
    the classifier). Its checkpoints load after ``tools/model_converters/torchvision2segkit.py``.
    """

    def __init__(self, *, project_dropout: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.project_dropout = nn.Dropout(project_dropout) if project_dropout > 0 else nn.Identity()
        self.conv = ConvModule(self.channels, self.channels, 3, padding=1, norm_cfg=self.norm_cfg,
                               act_cfg=self.act_cfg)

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.conv(self.project_dropout(super().features(inputs)))
