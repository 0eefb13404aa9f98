"""Reading a backbone's weights out of a checkpoint file."""
from collections.abc import Mapping
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log
from torch import nn

from segkit.engine.checkpoint import safe_load


def read_state_dict(checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> Dict:
    """Load ``checkpoint`` with :func:`~segkit.engine.checkpoint.safe_load` and return its state_dict.

    Accepts a bare state_dict or ``{'state_dict': ...}``; strips the ``module.`` left by DataParallel. With
    ``prefix`` (e.g. ``'backbone.'``, as mmengine's ``Pretrained``), keeps only the keys under it, prefix removed.
    """
    loaded = safe_load(checkpoint, map_location=map_location)
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


REMOTE_PREFIXES = ('open-mmlab://', 'openmmlab://', 'http://', 'https://', 'torchvision://', 'modelzoo://')


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


class LoadsPretrained:
    """``init_weights`` for a backbone with a ``load_pretrained(checkpoint, prefix, map_location)`` method: an
    ``init_cfg=dict(type='Pretrained', ...)`` goes through that method (key conversion, errors naming the file),
    any other init_cfg through mmengine."""

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if not (isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        self.load_pretrained(cfg['checkpoint'], prefix=cfg.get('prefix'), map_location=cfg.get('map_location', 'cpu'))
        self._is_init = True


def load_backbone_weights(backbone: nn.Module, state_dict: Mapping, checkpoint: str, owner: str,
                          unused: Sequence[str] = (), file_hint: str = '') -> List[str]:
    """``backbone.load_state_dict(state_dict, strict=False)`` that refuses missing weights and size mismatches with
    an error naming ``checkpoint``, logs the file's keys the backbone does not use and returns them (``unused``:
    keys already dropped by a conversion). ``file_hint`` says which files fit, for the error messages."""
    try:
        missing, unexpected = backbone.load_state_dict(state_dict, strict=False)
    except RuntimeError as exc:  # size mismatches
        raise RuntimeError(f'{checkpoint}: weights do not fit {owner}: {exc}') from exc
    unused = list(unused) + list(unexpected)
    if missing:
        shown = ', '.join(missing[:5]) + (', ...' if len(missing) > 5 else '')
        raise KeyError(f'{checkpoint}: {len(missing)} {owner} weights are missing from the checkpoint ({shown}). '
                       f"{file_hint}; for a full segmentor checkpoint set prefix='backbone.'")
    if unused:
        stems = sorted({'.'.join(k.split('.')[:2]) for k in unused})
        print_log(f'{owner}: {len(unused)} keys of {checkpoint} are not used by the backbone ({", ".join(stems)})',
                  logger='current')
    return unused
