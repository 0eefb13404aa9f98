"""DeepLab v2's ASPP head (Chen et al. 2017, arXiv:1606.00915, Sec. 3.3 and Fig. 4): per-rate logits, summed."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn

from segkit.models.output_stride import scale_rates
from segkit.registry import HEADS

from .atrous_fc import AtrousFC, elementwise_dropout, load_imagenet_fc
from .decode_head import DecodeHead

BRANCHES = ('fc', 'conv')


@HEADS.register_module()
class LogitSumASPPHead(DecodeHead):
    """Atrous spatial pyramid pooling as in DeepLab v2: one branch per atrous rate, each predicting class logits
    on its own, and the head's logits are their sum (unlike DeepLab v3's ASPP, which concatenates features and
    classifies once). ASPP-L has rates (6, 12, 18, 24) and ASPP-S (2, 4, 8, 12), at output stride 8.

    ``branch='fc'`` (the paper's VGG-16 model): per rate an fc6 3x3 atrous conv and an fc7 1x1 conv of ``channels``
    each, ReLU and dropout after both, and its own fc8 1x1 classifier. ``branch='conv'`` (the released ResNet-101
    model): per rate a single 3x3 atrous conv from the backbone features straight to the classes; ``channels`` is
    then unused. The per-rate classifiers are ``classifier[i]`` (initialised N(0, 0.01), as in the paper), so
    ``'decode_head.classifier'`` selects all of them (e.g. for the 10x learning rate).

    Args:
        dilations: atrous rates at ``dilations_output_stride``; one branch each.
        dilations_output_stride: the output stride ``dilations`` are given for (8, the paper's).
        output_stride: the backbone's output stride; the rates are rescaled to it (ASPP-L at 16 is 3, 6, 9, 12).
            None keeps them as given.
        branch: ``'fc'`` or ``'conv'``, see above.
        dropout_ratio: dropout after fc6 and fc7 of each ``'fc'`` branch; None: 0.5 for ``'fc'``, none for
            ``'conv'``.
        fc_checkpoint: ``'fc'`` only: torchvision's ImageNet ``vgg16`` file; every branch's fc6/fc7 then start from
            its decimated fc6/fc7 as in :class:`LargeFOVHead`. None (default): Kaiming-normal fc6/fc7.

    Other arguments are :class:`DecodeHead`'s; the loss goes through :meth:`DecodeHead.loss_by_logits` unchanged.
    """

    def __init__(self, *, dilations: Sequence[int] = (6, 12, 18, 24), dilations_output_stride: int = 8,
                 output_stride: Optional[int] = None, branch: str = 'fc', channels: int = 1024,
                 dropout_ratio: Optional[float] = None, fc_checkpoint: Optional[str] = None, **kwargs):
        if branch not in BRANCHES:
            raise ValueError(f"LogitSumASPPHead: branch={branch!r} must be 'fc' (fc6-fc7-fc8 per rate, VGG-16 "
                             f"model) or 'conv' (one 3x3 conv per rate, ResNet-101 model)")
        if not dilations or any(not isinstance(r, int) or r < 1 for r in dilations):
            raise ValueError(f'LogitSumASPPHead: dilations={dilations} must be a non-empty sequence of ints >= 1')
        if fc_checkpoint and branch != 'fc':
            raise ValueError("LogitSumASPPHead: fc_checkpoint initialises fc6/fc7, which only branch='fc' has")
        if dropout_ratio is None:
            dropout_ratio = 0.5 if branch == 'fc' else 0.0
        kwargs.setdefault('in_index', -1)
        super().__init__(channels=channels, dropout_ratio=dropout_ratio, **kwargs)
        self.dilations = scale_rates('LogitSumASPPHead', dilations, dilations_output_stride, output_stride)
        self.branch = branch
        self.fc_checkpoint = fc_checkpoint
        self.dropout = elementwise_dropout(dropout_ratio)  # drop7 of each 'fc' branch
        if branch == 'fc':
            self.branches = nn.ModuleList(
                AtrousFC(in_channels=self.in_channels, channels=channels, dilation=rate, dropout_ratio=dropout_ratio,
                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg) for rate in self.dilations)
            self.classifier = nn.ModuleList(nn.Conv2d(channels, self.num_classes, 1) for _ in self.dilations)
        else:
            self.branches = nn.ModuleList(nn.Identity() for _ in self.dilations)
            self.classifier = nn.ModuleList(
                nn.Conv2d(self.in_channels, self.num_classes, 3, padding=rate, dilation=rate)
                for rate in self.dilations)

    def init_weights(self) -> None:
        super().init_weights()
        if self.fc_checkpoint:
            load_imagenet_fc(self.branches, self.fc_checkpoint)

    def branch_logits(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Each branch's own class logits, in the order of ``dilations``."""
        x = self.select_inputs(inputs)
        return [classifier(self.dropout(branch(x))) for branch, classifier in zip(self.branches, self.classifier)]

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """The sum of :meth:`branch_logits`, at the resolution of the backbone features."""
        return torch.stack(self.branch_logits(inputs)).sum(dim=0)
