"""VGG's fully connected fc6 and fc7 as convolutions, the way DeepLab v1/v2 run them densely."""
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from segkit.models.backbones.convert_vgg import TORCHVISION_VGG16_URL, decimate_vgg16_fc
from segkit.models.backbones.pretrained import read_state_dict


class AtrousFC(nn.Module):
    """fc6: 3x3 conv of dilation ``dilation`` to ``channels`` maps, ReLU, dropout; fc7: 1x1 conv, ReLU.

    DeepLab v1 (arXiv:1412.7062, Sec. 3.1) turns VGG's fc6 into a 3x3 atrous conv (LargeFOV: dilation 12, 1024
    channels) and fc7 into a 1x1 conv. The dropout after fc7 belongs to the caller, who puts the classifier (fc8)
    after it. Dropout is element-wise, as Caffe's (not whole channels).
    """

    def __init__(self, *, in_channels: int, channels: int, dilation: int, dropout_ratio: float = 0.5,
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        conv_args = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.fc6 = ConvModule(in_channels, channels, 3, padding=dilation, dilation=dilation, **conv_args)
        self.drop6 = elementwise_dropout(dropout_ratio)
        self.fc7 = ConvModule(channels, channels, 1, **conv_args)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc7(self.drop6(self.fc6(x)))


def load_imagenet_fc(blocks: Sequence[AtrousFC], checkpoint: str) -> None:
    """Initialise fc6/fc7 of every block from torchvision's ImageNet ``vgg16`` file, decimated as in DeepLab v1
    (:func:`~segkit.models.backbones.convert_vgg.decimate_vgg16_fc`)."""
    try:
        state_dict = read_state_dict(checkpoint)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"decode_head.fc_checkpoint: {checkpoint} not found; it must be torchvision's "
                                f'ImageNet vgg16 file ({TORCHVISION_VGG16_URL}), or set fc_checkpoint=None') from exc
    for block in blocks:
        weights = decimate_vgg16_fc(state_dict, channels=block.fc6.conv.out_channels)
        shapes = {k: tuple(v.shape) for k, v in block.state_dict().items() if k in weights}
        if any(shapes.get(k) != tuple(v.shape) for k, v in weights.items()):
            raise ValueError(f'{checkpoint}: decimated fc6/fc7 {[tuple(v.shape) for v in weights.values()]} do not '
                             f'fit this head ({shapes}); ImageNet fc6 reads VGG16 pool5 (512 channels) and has '
                             f'biases, so fc_checkpoint needs in_channels=512 and norm_cfg=None')
        block.load_state_dict(weights, strict=False)


def elementwise_dropout(ratio: float) -> nn.Module:
    return nn.Dropout(ratio) if ratio > 0 else nn.Identity()
