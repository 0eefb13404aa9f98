"""Training-side checkpoint IO: atomic writes, ``HistoryBuffer`` pickled so it reloads with ``weights_only=True``,
and the context in which mmengine reads and writes through segkit.

Reading is :mod:`segkit.fileio.checkpoint` (``weights_only`` loading with segkit's allowlist, hash-named files
checked, damaged files refused by name), which the models use too. Inside :func:`safe_checkpoint_io`:

- mmengine's local-file loader is :func:`segkit.fileio.checkpoint.safe_load` (``.safetensors`` files read as
  such), so ``--resume``, ``load_from``,
  ``init_cfg=dict(type='Pretrained')`` and ``tools/test.py`` unpickle only tensors, containers and the few
  allowed types;
- saving goes through :class:`AtomicLocalBackend`, so an interrupted save keeps the previous checkpoint intact;
- ``HistoryBuffer`` pickles through its constructor, so the file reloads with ``weights_only=True``.

``import segkit`` changes nothing in mmengine: ``tools/train.py``, ``tools/test.py`` and
:func:`segkit.apis.init_model` enter :func:`safe_checkpoint_io` around the work that needs it; a program that runs
mmengine's Runner on segkit configs itself does the same::

    from segkit.engine.checkpoint import safe_checkpoint_io
    with safe_checkpoint_io():
        Runner.from_cfg(cfg).train()
"""
import copyreg
import glob
import os
from contextlib import contextmanager

from mmengine.fileio.backends import LocalBackend
from mmengine.fileio.backends.registry_utils import backends, prefix_to_backends
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from segkit.fileio.checkpoint import read_checkpoint

TMP_MARK = '.tmp-'  # a file being written is '<name>.tmp-<pid>' until it is complete


def _reduce_history_buffer(buffer: HistoryBuffer):
    # mmengine pickles a HistoryBuffer's per-instance statistics table through builtins.getattr, which no
    # weights_only loader may allow; rebuilding it from its constructor arguments needs only lists of floats.
    return HistoryBuffer, (buffer._log_history.tolist(), buffer._count_history.tolist(), buffer.max_length)


def load_from_local(filename, map_location):
    """mmengine's loader for plain paths, inside :func:`safe_checkpoint_io`: segkit's safe loader (and
    ``.safetensors`` files, such as a saved model's ``model.safetensors``)."""
    return read_checkpoint(os.path.expanduser(filename), map_location=map_location)


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
            f.write(payload)
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
