"""The files of a conversion: the official zip downloads read in place (the archive checked and named, members
found by name, images decoded from memory, no temporary extraction) and the converted images written."""
import functools
import os
import os.path as osp
import re
import shutil
import zipfile
from typing import Callable, Dict, List, Tuple, TypeVar

import cv2
import numpy as np


def require_archive(folder: str, name: str, what: str) -> str:
    """The path of the download ``name`` in ``folder``; a clear error naming it and ``what`` it is if absent."""
    path = osp.join(folder, name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{name} is not in {folder}: it is {what}. Download it (see this script\'s --help) '
                                'and put it there unextracted.')
    return path


T = TypeVar('T')
_OPENED: Dict[Tuple[str, int], zipfile.ZipFile] = {}


def open_zip(path: str) -> zipfile.ZipFile:
    """The opened archive, once per process: a forked worker opens its own, as reads through a file handle shared
    with other processes would race on its position."""
    key = (path, os.getpid())
    if key not in _OPENED:
        try:
            _OPENED[key] = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise zipfile.BadZipFile(f'{path} is not a readable zip archive ({err}); download it again, the copy '
                                     'may be incomplete') from err
    return _OPENED[key]


def close_archives() -> None:
    """Close the archives this process opened; the next :func:`open_zip` reads them afresh."""
    for key in [k for k in _OPENED if k[1] == os.getpid()]:
        _OPENED.pop(key).close()


def closes_archives(main: Callable[..., T]) -> Callable[..., T]:
    """Decorates a converter's ``main``: the archives it opened are closed when it returns or fails."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> T:
        try:
            return main(*args, **kwargs)
        finally:
            close_archives()
    return wrapper


def find_members(path: str, pattern: str) -> Dict[str, str]:
    """``{key: member}`` for the members of the archive at ``path`` whose name matches ``pattern`` (searched, so a
    folder prefix is allowed); ``key`` is the pattern's group ``key``. Two members with one key are an error."""
    regex, found = re.compile(pattern), {}
    for member in open_zip(path).namelist():
        match = regex.search(member)
        if match:
            key = match.group('key')
            if key in found:
                raise ValueError(f'{path} holds both {found[key]} and {member}; expected one file for {key}')
            found[key] = member
    return found


def list_members(path: str, pattern: str) -> List[str]:
    """The members of the archive at ``path`` whose name matches ``pattern``, sorted."""
    regex = re.compile(pattern)
    return sorted(m for m in open_zip(path).namelist() if regex.search(m))


def read_image(path: str, member: str, flag: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Member ``member`` of the archive at ``path`` decoded by OpenCV (colour images come as BGR)."""
    data = np.frombuffer(open_zip(path).read(member), np.uint8)
    image = cv2.imdecode(data, flag)
    if image is None:
        raise ValueError(f'{path}: cannot decode {member} ({data.size} bytes) as an image; the archive may be '
                         'damaged, download it again')
    return image


def extract_member(path: str, member: str, dest: str) -> None:
    """Member ``member`` of the archive at ``path`` written to the file ``dest``."""
    with open_zip(path).open(member) as src, open(dest, 'wb') as out:
        shutil.copyfileobj(src, out)


def extract(task: Tuple[str, str, str]) -> None:
    """:func:`extract_member` of an ``(archive, member, destination)`` task (for ``task_progress.run_tasks``)."""
    extract_member(*task)


def write_image(path: str, image: np.ndarray) -> None:
    """``image`` written to ``path`` by OpenCV (the format from the suffix); a failure is an error naming it."""
    if not cv2.imwrite(path, np.ascontiguousarray(image)):
        raise OSError(f'cannot write {path}; check that its folder exists and is writable and the disk not full')
