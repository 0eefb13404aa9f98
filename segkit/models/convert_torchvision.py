"""Key mapping from torchvision's DeepLabv3 models (``torchvision.models.segmentation.deeplabv3_resnet50``,
``deeplabv3_resnet101``, ``deeplabv3_mobilenet_v3_large``) to segkit's ``EncoderDecoder`` with a
:class:`~segkit.models.backbones.ResNetV1b` or :class:`~segkit.models.backbones.MobileNetV3` backbone, an
:class:`~segkit.models.heads.ASPPConvHead` and an ``FCNHead`` auxiliary head (configs under configs/torchvision/).

torchvision                                           segkit
``backbone.conv1`` / ``backbone.bn1`` (ResNet)         ``backbone.stem.0`` / ``backbone.stem.1``
``backbone.layerN.*`` (ResNet)                         the same
``backbone.N.*`` (MobileNetV3 ``features``)            ``backbone.*``, see ``backbones/convert_mobilenet_v3.py``
``classifier.0.convs.K.0`` / ``.1``, K = 0..R          ``decode_head.aspp.branches.K.conv`` / ``.bn`` (1x1, then atrous)
``classifier.0.convs.{R+1}.1`` / ``.2`` (pooling)      ``decode_head.aspp.image_pool.1.conv`` / ``.bn``
``classifier.0.project.0`` / ``.1``                    ``decode_head.aspp.project.conv`` / ``.bn`` (input channels
                                                      reordered: segkit puts the pooled map first)
``classifier.1`` / ``classifier.2`` (3x3 conv, BN)     ``decode_head.conv.conv`` / ``.bn``
``classifier.4``                                       ``decode_head.classifier``
``aux_classifier.0`` / ``.1`` / ``.4``                 ``auxiliary_heads.0.convs.0.conv`` / ``.bn``, ``.classifier``
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch

from segkit.models.backbones.convert_mobilenet_v3 import torchvision_mobilenet_v3_key

_ASPP_CONV = re.compile(r'^classifier\.0\.convs\.(\d+)\.(\d+)\.(.+)$')
_CONV_NORM = {'0': 'conv', '1': 'bn'}
_HEAD = {'classifier.0.project.0.': 'decode_head.aspp.project.conv.',
         'classifier.0.project.1.': 'decode_head.aspp.project.bn.',
         'classifier.1.': 'decode_head.conv.conv.', 'classifier.2.': 'decode_head.conv.bn.',
         'classifier.4.': 'decode_head.classifier.',
         'aux_classifier.0.': 'auxiliary_heads.0.convs.0.conv.', 'aux_classifier.1.': 'auxiliary_heads.0.convs.0.bn.',
         'aux_classifier.4.': 'auxiliary_heads.0.classifier.'}
PROJECT_WEIGHT = 'classifier.0.project.0.weight'


def torchvision_backbone(state_dict: Mapping) -> str:
    """``'resnet50'``, ``'resnet101'`` or ``'mobilenet_v3_large'``: which DeepLabv3 the state_dict is."""
    if 'backbone.conv1.weight' in state_dict:
        blocks = {int(k.split('.')[2]) for k in state_dict if k.startswith('backbone.layer3.')}
        return {6: 'resnet50', 23: 'resnet101'}.get(len(blocks), f'resnet ({len(blocks)} blocks in layer3)')
    if 'backbone.0.0.weight' in state_dict:
        return 'mobilenet_v3_large'
    raise ValueError('not a torchvision DeepLabv3 state_dict: no backbone.conv1.weight (ResNet) nor '
                     'backbone.0.0.weight (MobileNetV3) key')


def _num_aspp_maps(state_dict: Mapping) -> int:
    indices = {int(m.group(1)) for m in map(_ASPP_CONV.match, state_dict) if m is not None}
    if not indices:
        raise ValueError('not a torchvision DeepLabv3 state_dict: no classifier.0.convs.* (ASPP) keys; FCN and '
                         'LR-ASPP models are not supported')
    return max(indices) + 1


def torchvision_deeplabv3_key(key: str, num_aspp_maps: int) -> Optional[str]:
    """The segkit key for one torchvision key (``num_aspp_maps``: branches + image pooling), or None."""
    if key.startswith('backbone.'):
        local = key[len('backbone.'):]
        if local.split('.')[0].isdigit():  # MobileNetV3: IntermediateLayerGetter over ``features``
            target = torchvision_mobilenet_v3_key('features.' + local)
        else:
            target = re.sub(r'^conv1\.', 'stem.0.', re.sub(r'^bn1\.', 'stem.1.', local))
        return None if target is None else 'backbone.' + target
    match = _ASPP_CONV.match(key)
    if match is not None:
        index, module, param = int(match.group(1)), match.group(2), match.group(3)
        if index == num_aspp_maps - 1:  # AdaptiveAvgPool2d, conv, BN, ReLU
            module = {'1': '0', '2': '1'}.get(module)
            return None if module is None else f'decode_head.aspp.image_pool.1.{_CONV_NORM[module]}.{param}'
        return None if module not in _CONV_NORM else f'decode_head.aspp.branches.{index}.{_CONV_NORM[module]}.{param}'
    for old, new in _HEAD.items():
        if key.startswith(old):
            return new + key[len(old):]
    return None


def convert_torchvision_deeplabv3(state_dict: Mapping) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a torchvision DeepLabv3 state_dict to segkit's keys. Raises ``ValueError`` naming any key without a
    counterpart (e.g. a different head)."""
    torchvision_backbone(state_dict)
    num_maps = _num_aspp_maps(state_dict)
    converted: Dict[str, torch.Tensor] = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        target = torchvision_deeplabv3_key(key, num_maps)
        if target is None:
            unknown.append(key)
            continue
        if key == PROJECT_WEIGHT:  # torchvision concatenates [1x1, atrous..., pooled]; segkit [pooled, 1x1, ...]
            width = value.shape[1] // num_maps
            value = torch.cat([value[:, -width:], value[:, :-width]], dim=1)
        converted[target] = value
    if unknown:
        raise ValueError(f'{len(unknown)} keys of the torchvision state_dict have no segkit counterpart: '
                         f'{", ".join(unknown[:5])}' + (', ...' if len(unknown) > 5 else ''))
    return converted
