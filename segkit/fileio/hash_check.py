"""Checking files named by their hash: torchvision's and OpenMMLab's ``name-<sha256 prefix>.pth`` convention
(``mobilenet_v2-b0353104.pth``, ``..._20200617_102323-aad58ef1.pth``).

A file whose name ends in ``-<8 to 64 hex digits>`` before the extension is hashed and compared with that prefix
before it is loaded, so a truncated download or a swapped file fails with its name instead of loading wrong
weights. A suffix of decimal digits only (``model-20240101.pth``, a date) is not taken for a hash. A file that
passed is remembered for the process by (path, size, mtime), so loading it again does not hash it again.
"""
import hashlib
import os
import re
from typing import Dict, Optional, Tuple

HASH_SUFFIX = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9]+$')
_verified: Dict[Tuple[str, int, int], str] = {}


class HashMismatchError(ValueError):
    """A file named by hash whose content does not have that hash."""


def expected_hash_prefix(path: str) -> Optional[str]:
    match = HASH_SUFFIX.search(os.path.basename(path))
    if match is None or match.group(1).isdigit():
        return None
    return match.group(1)


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def verify_hash_suffix(path: str) -> None:
    """Raise :class:`HashMismatchError` if ``path`` is named by a hash its content does not have."""
    prefix = expected_hash_prefix(path)
    if prefix is None:
        return
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) == prefix:
        return
    actual = sha256_of(path)
    if not actual.startswith(prefix):
        raise HashMismatchError(
            f'{path}: the name says its sha256 starts with {prefix} but it is {actual[:len(prefix)]}... '
            f'({stat.st_size} bytes). The file is truncated, corrupt or not the one named; download it again. '
            f'(If the -{prefix} in the name is not a hash, rename the file without it.)')
    _verified[key] = prefix
