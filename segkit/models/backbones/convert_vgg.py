"""torchvision's ``vgg16`` / ``vgg16_bn`` state_dict -> segkit's :class:`VGG16` and DeepLab's convolutional fc6/fc7.

Backbone keys. torchvision numbers the modules of ``features`` in order (conv, [bn,] ReLU, ..., max-pool); segkit
names them by stage and conv:

torchvision ``vgg16``            ``vgg16_bn`` (conv, bn)           segkit (``.conv``, ``.bn``)
``features.0``, ``features.2``   ``features.0, 1``, ``3, 4``       ``layer1.0``, ``layer1.1`` (conv1_1, conv1_2)
``features.5`` ...               ``features.7, 8`` ...             ``layer2.0`` ...
... up to ``features.28``        ... up to ``features.40, 41``     ``layer5.2`` (conv5_3)

``classifier.0`` (fc6), ``classifier.3`` (fc7) and ``classifier.6`` (fc8, ImageNet classes) are not backbone
weights; :func:`decimate_vgg16_fc` turns fc6 and fc7 into DeepLab-LargeFOV's convolutional fc6/fc7.

The ImageNet file is torchvision's ``vgg16-397923af.pth`` (``VGG16_Weights.IMAGENET1K_V1``), from
https://download.pytorch.org/models/vgg16-397923af.pth or, once downloaded by torchvision, from
``~/.cache/torch/hub/checkpoints/``.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch

#: Where torchvision's ImageNet VGG-16 weights (``VGG16_Weights.IMAGENET1K_V1``) come from.
TORCHVISION_VGG16_URL = 'https://download.pytorch.org/models/vgg16-397923af.pth'
#: 3x3 convs in each of VGG-16's five blocks (configuration D of Simonyan & Zisserman 2015, Table 1).
VGG16_STAGE_CONVS = (2, 2, 3, 3, 3)
#: Spatial size of the pool5 map VGG's fc6 reads (its kernel, as a convolution).
FC6_KERNEL = 7
#: The 3 of fc6's 7 kernel taps (per axis) that LargeFOV keeps; see :func:`decimate_vgg16_fc`.
LARGEFOV_TAPS = (0, 3, 6)

_KEY = re.compile(r'^features\.(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$')


def _feature_modules(batch_norm: bool) -> Dict[int, str]:
    """torchvision ``features`` index -> segkit module name."""
    table, index = {}, 0
    for stage, convs in enumerate(VGG16_STAGE_CONVS, start=1):
        for conv in range(convs):
            table[index] = f'layer{stage}.{conv}.conv'
            if batch_norm:
                table[index + 1] = f'layer{stage}.{conv}.bn'
            index += 3 if batch_norm else 2  # conv, [bn,] relu
        index += 1  # max-pool
    return table


_MODULES = {False: _feature_modules(False), True: _feature_modules(True)}


def looks_like_torchvision_vgg16(state_dict: Mapping) -> bool:
    """True when the keys follow torchvision's VGG layout (``features.0.weight``, a conv without nesting)."""
    return 'features.0.weight' in state_dict


def has_batch_norm(state_dict: Mapping) -> bool:
    """True for torchvision's ``vgg16_bn`` layout (a BN layer right after the first conv)."""
    return 'features.1.running_var' in state_dict


def torchvision_vgg16_key(key: str, batch_norm: bool) -> Optional[str]:
    """The segkit backbone key for one torchvision key, or None when the backbone has no counterpart."""
    match = _KEY.match(key)
    if match is None:
        return None
    module = _MODULES[batch_norm].get(int(match.group(1)))
    return None if module is None else f'{module}.{match.group(2)}'


def convert_torchvision_vgg16(state_dict: Mapping) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a torchvision ``vgg16`` / ``vgg16_bn`` state_dict to :class:`VGG16` keys; the classifier is left out
    (see :func:`unused_torchvision_vgg16_keys`). Tensors are shared, not copied."""
    batch_norm = has_batch_norm(state_dict)
    converted = OrderedDict()
    for key, value in state_dict.items():
        target = torchvision_vgg16_key(key, batch_norm)
        if target is not None:
            converted[target] = value
    return converted


def unused_torchvision_vgg16_keys(state_dict: Mapping) -> List[str]:
    """The torchvision keys :func:`convert_torchvision_vgg16` drops (``classifier.*``)."""
    batch_norm = has_batch_norm(state_dict)
    return [k for k in state_dict if torchvision_vgg16_key(k, batch_norm) is None]


def decimate_vgg16_fc(state_dict: Mapping, channels: int = 1024) -> Dict[str, torch.Tensor]:
    """ImageNet fc6/fc7 of torchvision's ``vgg16`` as DeepLab-LargeFOV's fc6 (``channels x 512 x 3 x 3``) and fc7
    (``channels x channels x 1 x 1``), keyed ``fc6.conv.*`` / ``fc7.conv.*`` as in :class:`AtrousFC`.

    DeepLab v1 (arXiv:1412.7062, Sec. 3.1 and 4.1) subsamples the 7x7 fc6 kernel "by simple decimation" and uses
    1024 instead of 4096 channels in fc6/fc7 for LargeFOV. Here: the taps 0, 3, 6 of each kernel axis (at output
    stride 8 and dilation 12 they are 96 px apart, the same offsets that taps 0, 3, 6 of the stride-32 original
    reach), and every ``4096 // channels``-th fc6 filter with the matching rows and columns of fc7. The paper does
    not say which filters it kept; taking every n-th one is segkit's choice. (Any fc6 of shape ``N x (C * 49)``
    and fc7 of ``N x N`` is accepted, so narrower test models decimate the same way.)
    """
    missing = [k for k in ('classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'classifier.3.bias')
               if k not in state_dict]
    if missing:
        raise KeyError(f'decimate_vgg16_fc: {missing} not in the checkpoint; it must be torchvision vgg16 weights '
                       f'with the classifier ({TORCHVISION_VGG16_URL})')
    fc6, fc7 = state_dict['classifier.0.weight'], state_dict['classifier.3.weight']
    units, inputs = fc6.shape
    if inputs % FC6_KERNEL**2 or tuple(fc7.shape) != (units, units):
        raise ValueError(f'decimate_vgg16_fc: classifier.0.weight {tuple(fc6.shape)} and classifier.3.weight '
                         f'{tuple(fc7.shape)} are not VGG fc6/fc7 (4096 x 25088 and 4096 x 4096 in vgg16)')
    if channels < 1 or units % channels:
        raise ValueError(f'decimate_vgg16_fc: channels={channels} must divide the {units} fc6 units (e.g. 1024)')
    keep = torch.arange(0, units, units // channels)
    taps = torch.tensor(LARGEFOV_TAPS)
    fc6 = fc6.reshape(units, inputs // FC6_KERNEL**2, FC6_KERNEL, FC6_KERNEL)  # torch.flatten order: c, y, x
    return {
        'fc6.conv.weight': fc6[keep][:, :, taps][:, :, :, taps].contiguous(),
        'fc6.conv.bias': state_dict['classifier.0.bias'][keep].clone(),
        'fc7.conv.weight': fc7[keep][:, keep].reshape(channels, channels, 1, 1).contiguous(),
        'fc7.conv.bias': state_dict['classifier.3.bias'][keep].clone(),
    }
