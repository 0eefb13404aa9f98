"""Key mapping from timm's aligned Xception (``xception41``, ``xception65``, ``xception71``) to segkit's
:class:`~segkit.models.backbones.Xception`.

timm (``timm/models/xception_aligned.py``)               segkit
``stem.0`` / ``stem.1`` (``conv``, ``bn``)                  the same
``blocks.I``, the blocks of all flows in order              ``entry_flow.J`` / ``middle_flow.J`` / ``exit_flow.J``
  ``shortcut.conv`` / ``shortcut.bn``                       the same
  ``stack.convK.conv_dw`` / ``stack.convK.bn_dw``           ``convs.{K-1}.depthwise_conv.conv`` / ``.bn``
  ``stack.convK.conv_pw`` / ``stack.convK.bn_pw``           ``convs.{K-1}.pointwise_conv.conv`` / ``.bn``
``head.fc``                                                 not used (ImageNet classifier)

The pre-activation variants (``xception41p``, ``xception65p``) are a different network and are not mapped.
"""
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .pretrained import rename_keys

_STACK = {'conv_dw': 'depthwise_conv.conv', 'bn_dw': 'depthwise_conv.bn',
          'conv_pw': 'pointwise_conv.conv', 'bn_pw': 'pointwise_conv.bn'}
_BLOCK_KEY = re.compile(r'^blocks\.(\d+)\.(.+)$')
_STACK_KEY = re.compile(r'^stack\.conv([123])\.(conv_dw|bn_dw|conv_pw|bn_pw)\.(.+)$')


def _flow_of(index: int, flows: Sequence[Tuple[str, int]]) -> Optional[str]:
    """``'entry_flow.2'`` for timm's block ``index`` given the (flow name, number of blocks) in order."""
    for name, num_blocks in flows:
        if index < num_blocks:
            return f'{name}.{index}'
        index -= num_blocks
    return None


def timm_xception_key(key: str, flows: Sequence[Tuple[str, int]]) -> Optional[str]:
    """The segkit key for one timm key, or None when segkit's backbone has no counterpart."""
    if key.startswith('stem.'):
        return key
    match = _BLOCK_KEY.match(key)
    if match is None:
        return None
    block = _flow_of(int(match.group(1)), flows)
    rest = match.group(2)
    if block is None:
        return None
    if rest.startswith('shortcut.'):
        return f'{block}.{rest}'
    stack = _STACK_KEY.match(rest)
    if stack is None:
        return None
    conv, part, param = stack.groups()
    return f'{block}.convs.{int(conv) - 1}.{_STACK[part]}.{param}'


def timm_xception_blocks(state_dict: Mapping) -> int:
    """How many blocks (all flows) a timm aligned-Xception state_dict holds: 13 for xception41, 21 for
    xception65, 23 for xception71."""
    indices = [int(m.group(1)) for m in map(_BLOCK_KEY.match, state_dict) if m is not None]
    return max(indices) + 1 if indices else 0


def looks_like_timm_xception(state_dict: Mapping) -> bool:
    """True when the keys follow timm's aligned Xception layout (``blocks.N.stack.convK.conv_dw``)."""
    return any(k.startswith('blocks.0.stack.conv1.conv_dw.') for k in state_dict)


def convert_timm_xception(state_dict: Mapping,
                          flows: Sequence[Tuple[str, int]]) -> Tuple[Dict[str, object], List[str]]:
    """Rename a timm aligned-Xception state_dict to segkit's keys: ``(converted, unused keys)``, the unused ones
    being ``head.fc.*``. ``flows`` gives the blocks per flow in order, e.g. ``[('entry_flow', 3), ('middle_flow',
    16), ('exit_flow', 2)]`` for Xception-65 (see :attr:`Xception.flows`)."""
    return rename_keys(state_dict, lambda key: timm_xception_key(key, flows))
