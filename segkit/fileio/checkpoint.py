"""Checkpoint loading with ``torch.load(weights_only=True)`` and an explicit allowlist.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then refuses mmengine's own
checkpoints (they hold numpy arrays and a ``HistoryBuffer`` in ``message_hub``). :func:`safe_load` unpickles
only tensors, containers and the few types listed in :data:`SAFE_GLOBALS`; inside
:func:`segkit.engine.checkpoint.safe_checkpoint_io` it is mmengine's local-file loader too, so ``--resume``,
``load_from``, ``init_cfg=dict(type='Pretrained')`` and ``tools/test.py`` go through it. A file that needs anything
else is refused with an error that names the file and the type; a user who trusts the file opts in for that path
alone with ``SEGKIT_TRUSTED_CHECKPOINTS=/path/a.pth[:/path/b.pth]``, which allows the types that file names
(still with ``weights_only=True``). A file named by hash (``name-<sha256 prefix>.pth``) is checked against that
prefix first (:mod:`segkit.fileio.hash_check`); a truncated or foreign file is refused by name
(:mod:`segkit.fileio.damaged`).
"""
import importlib
import os
import pickle
from typing import Dict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .damaged import CorruptCheckpointError, damage_of
from .hash_check import verify_hash_suffix

__all__ = ['TRUST_ENV', 'SAFE_GLOBALS', 'REMOTE_PREFIXES', 'UnsafeCheckpointError', 'CorruptCheckpointError',
           'safe_load', 'read_checkpoint']

TRUST_ENV = 'SEGKIT_TRUSTED_CHECKPOINTS'
#: Checkpoints given by URL or model-zoo name: downloaded and cached by mmengine's loader.
REMOTE_PREFIXES = ('open-mmlab://', 'openmmlab://', 'http://', 'https://', 'torchvision://', 'modelzoo://')


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core  # numpy 2 moved numpy.core to numpy._core
    found = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return found


#: Every non-tensor type a segkit/mmengine/MMSegmentation checkpoint holds: the message hub's history
#: buffers and the numpy scalars/arrays inside them. Nothing here runs code when unpickled.
SAFE_GLOBALS = [HistoryBuffer, *_numpy_globals()]
# segkit saves HistoryBuffers through their constructor (segkit.engine.checkpoint). Checkpoints saved by plain
# mmengine / MMSegmentation 1.x training pickle them with builtins.getattr and are refused (with the opt-in hint);
# MMSegmentation's released model-zoo files hold only tensors and plain metadata and load.


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that needs a type outside :data:`SAFE_GLOBALS` to unpickle."""


def _trusted(path) -> bool:
    entries = [e for e in os.environ.get(TRUST_ENV, '').split(os.pathsep) if e]
    real = os.path.realpath(path)
    return any(os.path.realpath(e) == real for e in entries)


def safe_load(path, map_location='cpu'):
    """``torch.load`` a local file with ``weights_only=True`` and segkit's allowlist.

    Raises ``FileNotFoundError``, :class:`~segkit.fileio.hash_check.HashMismatchError` (a hash-named file with
    other content), :class:`CorruptCheckpointError` (truncated, empty or not a ``torch.save`` file) and
    :class:`UnsafeCheckpointError` (a type outside the allowlist), each naming the file and the fix.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    verify_hash_suffix(path)
    try:
        allowed = SAFE_GLOBALS + (_globals_in(path) if _trusted(path) else [])
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        damage = damage_of(path, exc)
        if damage is not None:
            raise CorruptCheckpointError.naming(path, damage) from exc
        if not isinstance(exc, pickle.UnpicklingError):
            raise
        raise UnsafeCheckpointError(
            f'{path}: refused by weights_only loading, it contains a type outside segkit\'s allowlist '
            f'({_first_line(exc)}). If you trust this file, allow it alone with '
            f'{TRUST_ENV}={path} (the types it names are then allowed for it), or re-save it as a plain '
            f'state_dict: torch.save({{"state_dict": model.state_dict()}}, path).') from exc


def _globals_in(path) -> list:
    """The classes and functions a trusted file's pickle names, imported, to allow them for that file alone
    (still ``weights_only=True``: nothing outside what the file names can be called)."""
    found = []
    for name in torch.serialization.get_unsafe_globals_in_checkpoint(path):
        module, _, qualname = name.rpartition('.')
        obj = importlib.import_module(module)
        for part in qualname.split('.'):
            obj = getattr(obj, part)
        found.append(obj)
    return found


def _first_line(exc) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if 'GLOBAL' in ln or 'Unsupported' in ln]
    return lines[0] if lines else str(exc).splitlines()[0]


def read_checkpoint(checkpoint: str, map_location: str = 'cpu'):
    """What a checkpoint file holds: a remote one (``torchvision://...``, ``https://...``) through mmengine's loader
    and cache, a ``.safetensors`` file (timm's files on the Hugging Face hub) with the ``safetensors`` package, a
    local file with :func:`safe_load`."""
    if str(checkpoint).startswith(REMOTE_PREFIXES):
        return CheckpointLoader.load_checkpoint(checkpoint, map_location=map_location)
    if str(checkpoint).endswith('.safetensors'):
        return _load_safetensors(checkpoint)
    return safe_load(checkpoint, map_location=map_location)


def _load_safetensors(checkpoint: str) -> Dict:
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError as exc:
        raise ImportError(f'{checkpoint}: reading .safetensors files needs the safetensors package '
                          f'(pip install safetensors), or convert the file to a .pth state_dict') from exc
    try:
        return load_file(checkpoint)
    except SafetensorError as exc:  # a header or data that does not fit the file
        raise CorruptCheckpointError.naming(checkpoint, f'safetensors cannot read it ({exc})') from exc
