"""Checkpoint loading with ``torch.load(weights_only=True)`` and an explicit allowlist.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then refuses mmengine's own
checkpoints (they hold numpy arrays and a ``HistoryBuffer`` in ``message_hub``). segkit replaces mmengine's
local-file loader so that ``--resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')`` and ``tools/test.py``
all load through :func:`safe_load`, which unpickles only tensors, containers and the few types listed in
:data:`SAFE_GLOBALS`. A file that needs anything else is refused with an error that names the file and the type;
a user who trusts the file opts in for that path alone with ``SEGKIT_TRUSTED_CHECKPOINTS=/path/a.pth[:/path/b.pth]``.

Saving goes through :class:`AtomicLocalBackend`, so an interrupted save keeps the previous checkpoint intact.
"""
import copyreg
import os
import pickle

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'SEGKIT_TRUSTED_CHECKPOINTS'


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
# segkit saves HistoryBuffers through their constructor (see _reduce_history_buffer). Checkpoints saved by plain
# mmengine / MMSegmentation 1.x training pickle them with builtins.getattr and are refused (with the opt-in hint);
# MMSegmentation's released model-zoo files hold only tensors and plain metadata and load.


def _reduce_history_buffer(buffer: HistoryBuffer):
    # mmengine pickles a HistoryBuffer's per-instance statistics table through builtins.getattr, which no
    # weights_only loader may allow; rebuilding it from its constructor arguments needs only lists of floats.
    return HistoryBuffer, (buffer._log_history.tolist(), buffer._count_history.tolist(), buffer.max_length)


copyreg.pickle(HistoryBuffer, _reduce_history_buffer)


class UnsafeCheckpointError(pickle.UnpicklingError):
    pass


def _trusted(path):
    entries = [e for e in os.environ.get(TRUST_ENV, '').split(os.pathsep) if e]
    real = os.path.realpath(path)
    return any(os.path.realpath(e) == real for e in entries)


def safe_load(path, map_location='cpu'):
    """``torch.load`` a local file with ``weights_only=True`` and segkit's allowlist."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    if _trusted(path):
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f'{path}: refused by weights_only loading, it contains a type outside segkit\'s allowlist '
            f'({_first_line(exc)}). If you trust this file, allow it alone with '
            f'{TRUST_ENV}={path} (it is then loaded with weights_only=False), or re-save it as a plain '
            f'state_dict: torch.save({{"state_dict": model.state_dict()}}, path).') from exc


def _first_line(exc):
    lines = [ln.strip() for ln in str(exc).splitlines() if 'GLOBAL' in ln or 'Unsupported' in ln]
    return lines[0] if lines else str(exc).splitlines()[0]


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename, map_location):
    """mmengine's loader for plain paths, replaced by :func:`safe_load`."""
    return safe_load(os.path.expanduser(filename), map_location=map_location)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, but a file is written to a temporary name and renamed into place, so a
    crash while saving a checkpoint never leaves a truncated file where the last good one was."""

    def put(self, obj: bytes, filepath) -> None:
        _atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        _atomic_write(filepath, obj.encode(encoding))


def _atomic_write(filepath, payload: bytes) -> None:
    filepath = os.fspath(filepath)
    os.makedirs(os.path.dirname(filepath) or '.', exist_ok=True)
    tmp = f'{filepath}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
