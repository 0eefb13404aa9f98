"""Reading a backbone's weights out of a checkpoint file."""
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Callable, Dict, List, Optional, Tuple

from mmengine.logging import print_log
from torch import nn

from segkit.fileio.checkpoint import REMOTE_PREFIXES, read_checkpoint


def read_state_dict(checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> Dict:
    """The state_dict in ``checkpoint``, read by :func:`~segkit.fileio.checkpoint.read_checkpoint` (a local file
    with ``weights_only`` loading, a ``.safetensors`` file, or a remote one such as
    ``torchvision://mobilenet_v3_large.imagenet1k_v1`` through mmengine's loader and cache).

    Accepts a bare state_dict or ``{'state_dict': ...}``; strips the ``module.`` left by DataParallel. With
    ``prefix`` (e.g. ``'backbone.'``, as mmengine's ``Pretrained``), keeps only the keys under it, prefix removed.
    """
    loaded = read_checkpoint(checkpoint, map_location=map_location)
    if not isinstance(loaded, Mapping):
        raise TypeError(f'{checkpoint}: expected a state_dict or a dict with a "state_dict" entry, '
                        f'got {type(loaded).__name__}')
    state_dict = loaded.get('state_dict', loaded)
    state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state_dict.items()}
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise KeyError(f"{checkpoint}: no key starts with prefix='{prefix}'; check init_cfg's prefix "
                           f'(or drop it when the file holds the backbone alone)')
    return state_dict


def rename_keys(state_dict: Mapping, key_map: Callable[[str], Optional[str]]) -> Tuple[Dict, List[str]]:
    """``(renamed, dropped)``: ``state_dict`` with each key renamed by ``key_map`` (tensors shared, not copied),
    and the keys it maps to None (no counterpart, e.g. a classifier)."""
    renamed, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        target = key_map(key)
        if target is None:
            dropped.append(key)
        else:
            renamed[target] = value
    return renamed, dropped


#: Turns a foreign state_dict (torchvision, timm) into the backbone's keys: returns (converted, unused keys), or
#: None when the file is not in that layout (it is then loaded as a segkit state_dict).
Converter = Callable[[Dict], Optional[Tuple[Dict, List[str]]]]


def load_backbone_weights(backbone: nn.Module, checkpoint: str, name: str, convert: Optional[Converter] = None,
                          prefix: Optional[str] = None, map_location: str = 'cpu', expected: str = '') -> List[str]:
    """Load ``checkpoint`` into ``backbone`` (``name`` in messages); return the checkpoint keys it did not use.

    Raises ``KeyError`` naming the missing weights (``expected`` says which files fit) and ``RuntimeError`` on
    shape mismatches; unused keys (a classifier) are only logged.
    """
    state_dict = read_state_dict(checkpoint, prefix=prefix, map_location=map_location)
    unused: List[str] = []
    converted = convert(state_dict) if convert is not None else None
    if converted is not None:
        state_dict, unused = converted
    try:
        missing, unexpected = backbone.load_state_dict(state_dict, strict=False)
    except RuntimeError as exc:  # size mismatches
        raise RuntimeError(f'{checkpoint}: weights do not fit {name}: {exc}') from exc
    unused = list(unused) + list(unexpected)
    if missing:
        shown = ', '.join(missing[:5]) + (', ...' if len(missing) > 5 else '')
        raise KeyError(f'{checkpoint}: {len(missing)} {name} weights are missing from the checkpoint ({shown}). '
                       f'{expected} For a full segmentor checkpoint set prefix=\'backbone.\'')
    if unused:
        stems = sorted({'.'.join(k.split('.')[:2]) for k in unused})
        print_log(f'{name}: {len(unused)} keys of {checkpoint} are not used by the backbone ({", ".join(stems)})',
                  logger='current')
    return unused


class PretrainedFromFile:
    """``init_weights`` for backbones whose ``load_pretrained(checkpoint, prefix, map_location)`` converts foreign
    files: a ``dict(type='Pretrained', checkpoint=..., prefix=...)`` init_cfg goes there, any other to mmengine.
    A remote file that cannot be fetched (offline) leaves the random initialisation with a warning, as
    ``ResNetV1c`` does; ``tools/train.py`` refuses to train like this."""

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if not (isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        checkpoint = cfg['checkpoint']
        try:
            self.load_pretrained(checkpoint, prefix=cfg.get('prefix'), map_location=cfg.get('map_location', 'cpu'))
        except OSError as exc:
            if remote_checkpoint(cfg) is None:
                raise
            print_log(f'{type(self).__name__} keeps its random initialisation: {unreachable_message(checkpoint, exc)}',
                      logger='current', level=logging.WARNING)
        self._is_init = True


def remote_checkpoint(init_cfg) -> Optional[str]:
    """The checkpoint of a ``Pretrained`` init_cfg when it must be downloaded, else None."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for cfg in cfgs:
        if isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained':
            checkpoint = str(cfg.get('checkpoint', ''))
            if checkpoint.startswith(REMOTE_PREFIXES):
                return checkpoint
    return None


def unreachable_message(checkpoint: str, exc: Exception) -> str:
    return (f"ImageNet weights '{checkpoint}' could not be fetched ({type(exc).__name__}: {exc}). Download them "
            'once with network access (mmengine caches them under ~/.cache/torch/hub/checkpoints), or set '
            'model.backbone.init_cfg.checkpoint to a local file, or model.backbone.init_cfg=None to train from '
            'scratch.')
