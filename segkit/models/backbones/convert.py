"""Key mapping from torchvision's ``mobilenet_v2`` state_dict to segkit's :class:`MobileNetV2`.

torchvision (``torchvision.models.mobilenet_v2``)       segkit
``features.0.0`` / ``features.0.1`` (stem conv / bn)   ``stem.conv`` / ``stem.bn``
``features.N`` for N = 1..17, the inverted residuals   ``layerS.B``: stage S, block B, in order (Table 2 of the paper)
  t = 1 block (only ``features.1``):
    ``conv.0.0`` / ``conv.0.1`` (depthwise conv / bn)   ``depthwise.conv`` / ``depthwise.bn``
    ``conv.1`` / ``conv.2`` (project conv / bn)         ``project.conv`` / ``project.bn``
  t = 6 blocks:
    ``conv.0.0`` / ``conv.0.1`` (expand conv / bn)      ``expand.conv`` / ``expand.bn``
    ``conv.1.0`` / ``conv.1.1`` (depthwise conv / bn)   ``depthwise.conv`` / ``depthwise.bn``
    ``conv.2`` / ``conv.3`` (project conv / bn)         ``project.conv`` / ``project.bn``
``features.18`` (1x1 conv to 1280), ``classifier.*``   not used (ImageNet classification only)
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

#: Blocks per stage of torchvision's ``features.1..17`` (the ``n`` column of Table 2).
TORCHVISION_STAGE_REPEATS = (1, 2, 3, 4, 3, 3, 1)

_T1_BLOCK = {'conv.0.0': 'depthwise.conv', 'conv.0.1': 'depthwise.bn',
             'conv.1': 'project.conv', 'conv.2': 'project.bn'}
_EXPANDED_BLOCK = {'conv.0.0': 'expand.conv', 'conv.0.1': 'expand.bn',
                   'conv.1.0': 'depthwise.conv', 'conv.1.1': 'depthwise.bn',
                   'conv.2': 'project.conv', 'conv.3': 'project.bn'}
_STEM = {'0': 'stem.conv', '1': 'stem.bn'}
_KEY = re.compile(r'^features\.(\d+)\.(.+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$')


def _block_positions() -> Dict[int, Tuple[int, int]]:
    """features index -> (stage number from 1, block index in the stage)."""
    positions, index = {}, 1
    for stage, repeats in enumerate(TORCHVISION_STAGE_REPEATS, start=1):
        for block in range(repeats):
            positions[index] = (stage, block)
            index += 1
    return positions


_BLOCKS = _block_positions()


def torchvision_mobilenet_v2_key(key: str) -> Optional[str]:
    """The segkit key for one torchvision key, or None when segkit's backbone has no counterpart."""
    match = _KEY.match(key)
    if match is None:
        return None
    index, module, param = int(match.group(1)), match.group(2), match.group(3)
    if index == 0:
        target = _STEM.get(module)
    elif index in _BLOCKS:
        stage, block = _BLOCKS[index]
        table = _T1_BLOCK if index == 1 else _EXPANDED_BLOCK
        target = table.get(module)
        target = None if target is None else f'layer{stage}.{block}.{target}'
    else:
        target = None
    return None if target is None else f'{target}.{param}'


def looks_like_torchvision_mobilenet_v2(state_dict: Mapping) -> bool:
    """True when the keys follow torchvision's ``features.N.*`` layout."""
    return any(k.startswith('features.0.0.') for k in state_dict)


def convert_torchvision_mobilenet_v2(state_dict: Mapping) -> 'OrderedDict[str, object]':
    """Rename a torchvision ``mobilenet_v2`` state_dict to segkit's keys; keys without a counterpart are left out
    (list them with :func:`unused_torchvision_keys`). Tensors are shared, not copied."""
    converted = OrderedDict()
    for key, value in state_dict.items():
        target = torchvision_mobilenet_v2_key(key)
        if target is not None:
            converted[target] = value
    return converted


def unused_torchvision_keys(state_dict: Mapping) -> List[str]:
    """The torchvision keys :func:`convert_torchvision_mobilenet_v2` drops (``features.18.*``, ``classifier.*``)."""
    return [k for k in state_dict if torchvision_mobilenet_v2_key(k) is None]
