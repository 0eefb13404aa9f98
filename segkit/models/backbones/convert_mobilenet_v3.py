"""Key mapping from torchvision's ``mobilenet_v3_large`` state_dict to segkit's :class:`MobileNetV3`.

torchvision (``torchvision.models.mobilenet_v3_large``)   segkit
``features.0.0`` / ``features.0.1`` (stem conv / bn)       ``stem.conv`` / ``stem.bn``
``features.N.block.M`` for N = 1..15, in order:            ``layerN.``
  the 1x1 expansion (absent when it would not widen)         ``expand.conv`` / ``expand.bn`` (``.0`` / ``.1``)
  the depthwise conv                                         ``depthwise.conv`` / ``depthwise.bn``
  squeeze-and-excite ``fc1`` / ``fc2`` (where the paper has   ``se.reduce`` / ``se.expand``
  one)
  the 1x1 projection                                         ``project.conv`` / ``project.bn``
``features.16.0`` / ``features.16.1`` (1x1 conv to 960)   ``last_conv.conv`` / ``last_conv.bn``
``classifier.*``                                           not used (ImageNet classification only)
"""
import re
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

from .mobilenet_v3_arch import LARGE_BLOCKS, STEM_CHANNELS
from .pretrained import rename_keys

_KEY = re.compile(r'^features\.(\d+)\.(.+)$')
_BLOCK_PART = re.compile(r'^block\.(\d+)\.(.+)$')
_CONV_NORM = {'0': 'conv', '1': 'bn'}
_SE = {'fc1': 'reduce', 'fc2': 'expand'}


@lru_cache(maxsize=None)
def _block_parts() -> Dict[int, Tuple[str, ...]]:
    """features index -> the names of the block's torchvision sub-modules ``block.0``, ``block.1``, ..."""
    parts, channels = {}, STEM_CHANNELS
    for index, (_, expanded, out_channels, use_se, _, _) in enumerate(LARGE_BLOCKS, start=1):
        parts[index] = (('expand',) if expanded != channels else ()) + ('depthwise',) + \
            (('se',) if use_se else ()) + ('project',)
        channels = out_channels
    return parts


def torchvision_mobilenet_v3_key(key: str) -> Optional[str]:
    """The segkit key for one torchvision key, or None when segkit's backbone has no counterpart."""
    match = _KEY.match(key)
    if match is None:
        return None
    index, rest = int(match.group(1)), match.group(2)
    parts = _block_parts()
    if index == 0 or index == len(parts) + 1:
        module, _, param = rest.partition('.')
        name = 'stem' if index == 0 else 'last_conv'
        return f'{name}.{_CONV_NORM[module]}.{param}' if module in _CONV_NORM else None
    block = _BLOCK_PART.match(rest)
    if index not in parts or block is None or int(block.group(1)) >= len(parts[index]):
        return None
    part = parts[index][int(block.group(1))]
    module, _, param = block.group(2).partition('.')
    table = _SE if part == 'se' else _CONV_NORM
    return f'layer{index}.{part}.{table[module]}.{param}' if module in table else None


def looks_like_torchvision_mobilenet_v3(state_dict: Mapping) -> bool:
    """True when the keys follow torchvision's ``features.N.block.M`` layout of MobileNetV3."""
    return any(k.startswith('features.1.block.') for k in state_dict)


def convert_torchvision_mobilenet_v3(state_dict: Mapping) -> Tuple[Dict[str, object], List[str]]:
    """Rename a torchvision ``mobilenet_v3_large`` state_dict to segkit's keys: ``(converted, unused keys)``;
    the unused ones are ``classifier.*``. Tensors are shared, not copied."""
    return rename_keys(state_dict, torchvision_mobilenet_v3_key)
