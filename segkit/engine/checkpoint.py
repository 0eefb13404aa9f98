"""Checkpoint loading with ``torch.load(weights_only=True)`` and an explicit allowlist.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then refuses mmengine's own
checkpoints (they hold numpy arrays and a ``HistoryBuffer`` in ``message_hub``). Inside :func:`safe_checkpoint_io`
mmengine's local-file loader is :func:`safe_load`, so ``--resume``, ``load_from``,
``init_cfg=dict(type='Pretrained')`` and ``tools/test.py`` unpickle only tensors, containers and the few types
listed in :data:`SAFE_GLOBALS`. A file that needs anything else is refused with an error that names the file and
the type; a user who trusts the file opts in for that path alone with
``SEGKIT_TRUSTED_CHECKPOINTS=/path/a.pth[:/path/b.pth]``, which allows the types that file names (still with
``weights_only=True``). A file named by hash (``name-<sha256 prefix>.pth``) is
checked against that prefix first (:mod:`segkit.engine.hash_check`).

Inside the same context saving goes through :class:`AtomicLocalBackend`, so an interrupted save keeps the
previous checkpoint intact, and ``HistoryBuffer`` pickles through its constructor, so the file reloads with
``weights_only=True``.

``import segkit`` changes nothing in mmengine: ``tools/train.py``, ``tools/test.py`` and
:func:`segkit.apis.init_model` enter :func:`safe_checkpoint_io` around the work that needs it; a program that runs
mmengine's Runner on segkit configs itself does the same::

    from segkit.engine.checkpoint import safe_checkpoint_io
    with safe_checkpoint_io():
        Runner.from_cfg(cfg).train()
"""
import copyreg
import glob
import importlib
import os
import pickle
from contextlib import contextmanager

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.fileio.backends.registry_utils import backends, prefix_to_backends
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .faults import fault_point
from .hash_check import verify_hash_suffix

TRUST_ENV = 'SEGKIT_TRUSTED_CHECKPOINTS'
TMP_MARK = '.tmp-'  # a file being written is '<name>.tmp-<pid>' until it is complete


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
    verify_hash_suffix(path)
    allowed = SAFE_GLOBALS + (_globals_in(path) if _trusted(path) else [])
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
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


def _first_line(exc):
    lines = [ln.strip() for ln in str(exc).splitlines() if 'GLOBAL' in ln or 'Unsupported' in ln]
    return lines[0] if lines else str(exc).splitlines()[0]


def load_from_local(filename, map_location):
    """mmengine's loader for plain paths, inside :func:`safe_checkpoint_io`."""
    return safe_load(os.path.expanduser(filename), map_location=map_location)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, but a file is written to a temporary name and renamed into place, so a
    crash while saving a checkpoint never leaves a truncated file where the last good one was."""

    def put(self, obj: bytes, filepath) -> None:
        write_atomically(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomically(filepath, obj.encode(encoding))


def write_atomically(filepath, payload: bytes) -> None:
    """Write to ``<filepath>.tmp-<pid>``, fsync, rename: readers see the old file or the whole new one."""
    filepath = os.fspath(filepath)
    os.makedirs(os.path.dirname(filepath) or '.', exist_ok=True)
    tmp = f'{filepath}{TMP_MARK}{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            half = len(payload) // 2
            f.write(payload[:half])
            if filepath.endswith('.pth'):
                fault_point('checkpoint_write')  # the crash tests kill the process here, half the file written
            f.write(payload[half:])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_stale_temporaries(folder: str) -> list:
    """Delete the temporaries that a killed save left in ``folder`` (those of processes no longer running)."""
    removed = []
    for path in glob.glob(os.path.join(glob.escape(folder), f'*{TMP_MARK}*')):
        pid = path.rsplit(TMP_MARK, 1)[1]
        if pid.isdigit() and not _running(int(pid)):
            os.remove(path)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


_ABSENT = object()


@contextmanager
def safe_checkpoint_io():
    """Within the block, mmengine loads local checkpoints with :func:`safe_load`, writes files atomically and
    pickles ``HistoryBuffer`` so that it reloads with ``weights_only=True``; on exit mmengine is as before."""
    replacements = [(CheckpointLoader._schemes, '', load_from_local), (backends, 'local', AtomicLocalBackend),
                    (prefix_to_backends, '', AtomicLocalBackend),
                    (copyreg.dispatch_table, HistoryBuffer, _reduce_history_buffer)]
    previous = [(table, key, table.get(key, _ABSENT)) for table, key, _ in replacements]
    for table, key, value in replacements:
        table[key] = value
    try:
        yield
    finally:
        for table, key, value in previous:
            if value is _ABSENT:
                table.pop(key, None)
            else:
                table[key] = value
