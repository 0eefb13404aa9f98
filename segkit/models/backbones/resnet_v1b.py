"""ResNetV1b: ResNet with the original 7x7 stem, torchvision's ``resnet50`` / ``resnet101`` layout."""
from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from torch import nn

from segkit.models.heads.decode_head import rename_legacy_keys
from segkit.registry import BACKBONES

from .resnet import ResNetV1c

#: torchvision's stem names -> segkit's (relative to the backbone).
TORCHVISION_STEM_KEYS = {'conv1.': 'stem.0.', 'bn1.': 'stem.1.'}


@BACKBONES.register_module()
class ResNetV1b(ResNetV1c):
    """ResNet of He et al. 2016 with the stride on the 3x3 conv of the bottleneck ("ResNet-B" in "Bag of Tricks",
    He et al. 2019): a 7x7 stride-2 ``stem`` conv + norm + activation, then the 3x3 stride-2 max-pool. This is
    torchvision's ResNet; everything after the stem (stages, dilation, multi-grid, freezing) is
    :class:`ResNetV1c`'s, with the same arguments.

    torchvision's dilated ResNet (``replace_stride_with_dilation=[False, True, True]``, used by its DeepLabv3) is
    ``strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True``: the first block of a dilated stage
    keeps the previous stage's rate.

    torchvision files load as they are: ``conv1.*`` / ``bn1.*`` are read as ``stem.0.*`` / ``stem.1.*`` (``fc.*``
    is unused), so ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')`` or a local copy of
    torchvision's ImageNet file works.
    """

    @staticmethod
    def _make_stem(in_channels: int, stem_channels: int, norm_cfg: dict, act_cfg: dict) -> nn.Sequential:
        return nn.Sequential(
            build_conv_layer(None, in_channels, stem_channels, 7, stride=2, padding=3, bias=False),
            build_norm_layer(norm_cfg, stem_channels)[1], build_activation_layer(act_cfg))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        rename_legacy_keys(state_dict, prefix, TORCHVISION_STEM_KEYS)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
