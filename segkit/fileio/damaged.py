"""Telling a damaged checkpoint file from a refused one: a file cut short (an interrupted download or copy, a
full disk, a save killed mid-write), an empty one, or one that ``torch.save`` never wrote (an HTML error page
saved by a failed download). torch's own messages ("PytorchStreamReader failed reading zip archive", EOF) name
neither the file nor the fix."""
import os
import struct
import zipfile
from typing import Optional

#: First bytes of what ``torch.save`` writes: a zip archive (torch >= 1.6) or a pickle (the legacy format).
ZIP_MAGIC, PICKLE_MAGIC = b'PK\x03\x04', b'\x80'


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that is not complete, or not a checkpoint at all."""

    @classmethod
    def naming(cls, path: str, damage: str) -> 'CorruptCheckpointError':
        return cls(f'{path}: not a complete checkpoint file: {damage} ({_size(path)} bytes). It was most likely '
                   'cut short (an interrupted download or copy, a full disk, a save killed while writing) or is '
                   'not the file meant (a failed download saves an error page). Download or copy it again and '
                   'compare its size / sha256 with the source; for a training checkpoint use an earlier one of the '
                   'work dir.')


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def damage_of(path: str, exc: BaseException) -> Optional[str]:
    """What is wrong with the file at ``path`` that ``torch.load`` failed on with ``exc``, or None when the file
    looks whole (the failure is then something else: a refused type, a device)."""
    with open(path, 'rb') as f:
        head = f.read(4)
    if not head:
        return 'it is empty'
    if head.startswith(ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            return "it is the start of a zip archive (torch.save's format) without its end: truncated"
        text = str(exc).lower()
        if isinstance(exc, RuntimeError) and ('corrupt' in text or 'zip archive' in text):
            return f'its zip archive is damaged ({str(exc).splitlines()[0]})'
        return None
    if head.startswith(PICKLE_MAGIC):  # the legacy format
        if isinstance(exc, (EOFError, struct.error)) or 'EOF' in str(exc):
            return "it ends before the data it announces (torch.save's legacy format): truncated"
        return None
    return f'it does not start like a file of torch.save (first bytes {head!r})'
