"""Key mapping from MMSegmentation's ``MobileNetV2`` state_dict to segkit's :class:`MobileNetV2`.

MMSegmentation (``mmseg.models.backbones.MobileNetV2``)    segkit
``conv1.conv`` / ``conv1.bn`` (stem ConvModule)           ``stem.conv`` / ``stem.bn``
``layerS.B.conv.K``, one ConvModule per K, in order:      ``layerS.B.<part>``
  blocks of expand ratio 1 (stage 1): K = 0, 1            ``depthwise``, ``project``
  the other blocks: K = 0, 1, 2                           ``expand``, ``depthwise``, ``project``

The rename runs when a state_dict is loaded (``load_from``, ``tools/test.py``, ``init_cfg`` Pretrained), so
MMSegmentation's ``*_m-v2-d8`` checkpoints load as they are. Their network also dilates only the first block of
each stage: build the backbone with ``dilate_first_block_only=True`` to get their outputs.
"""
import re
from typing import Sequence, Tuple

_KEY = re.compile(r'^layer(\d+)\.(\d+)\.conv\.(\d)\.(.+)$')
_PARTS = {True: ('expand', 'depthwise', 'project'), False: ('depthwise', 'project')}


def looks_like_mmseg_mobilenet_v2(state_dict, prefix: str = '') -> bool:
    """True when the keys under ``prefix`` follow MMSegmentation's layout (``conv1.conv.weight``)."""
    return prefix + 'conv1.conv.weight' in state_dict


def rename_mmseg_mobilenet_v2_keys(state_dict: dict, prefix: str, expand_ratios: Sequence[float]) -> Tuple[str, ...]:
    """Rename MMSegmentation keys under ``prefix`` to segkit's, in place; returns the renamed old keys.

    ``expand_ratios`` holds the expand ratio of each stage (1: the block has no expand conv).
    """
    renamed = []
    for key in [k for k in state_dict if k.startswith(prefix)]:
        local = key[len(prefix):]
        if local.startswith('conv1.'):
            new = 'stem.' + local[len('conv1.'):]
        else:
            match = _KEY.match(local)
            if match is None:
                continue
            stage, block, index, rest = int(match.group(1)), match.group(2), int(match.group(3)), match.group(4)
            if not 1 <= stage <= len(expand_ratios):
                continue
            parts = _PARTS[expand_ratios[stage - 1] != 1]
            if index >= len(parts):
                continue
            new = f'layer{stage}.{block}.{parts[index]}.{rest}'
        state_dict[prefix + new] = state_dict.pop(key)
        renamed.append(key)
    return tuple(renamed)
