"""The decoded-image cache: a dataset's loading steps run once per sample, their arrays kept in shared memory.

``SegDataset(decoded_cache=dict(max_mib=1024))`` runs the pipeline's leading loading transforms
(``LoadImageFromFile``, ``LoadAnnotations``, ``LoadMultiBandImage``: whatever they read from the files, colour masks
and multi-band images included) over every sample when the dataset is initialised, and keeps what they produce: the
arrays (image, mask) in one shared-memory buffer, the small values (shapes, ``seg_fields``) in a serialised index.
``dataset[i]`` then copies sample i out of the buffer and runs only the rest of the pipeline (the random steps).

The buffer is a shared torch tensor filled in the main process before the DataLoader starts its workers, so forked
workers map the same pages and spawned ones receive it by handle: one copy per process that builds the dataset
(each rank of a multi-process run decodes its own copy). Over ``max_mib`` the cache is dropped with a logged
message and the dataset reads the files at every step, as without the key.
"""
import logging
import pickle
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log

DEFAULT_MAX_MIB = 2048.0
_ALIGN = 64  # byte alignment of each array in the buffer
_Entry = Tuple[str, int, Tuple[int, ...], str]  # (results key, byte offset, shape, numpy dtype string)
_MISSING = object()


@dataclass(frozen=True)
class DecodedCacheConfig:
    """What ``decoded_cache`` may hold: ``max_mib``, the most shared memory the decoded samples may take."""

    max_mib: float = DEFAULT_MAX_MIB

    @classmethod
    def parse(cls, value: Union[None, bool, dict], owner: str) -> Optional['DecodedCacheConfig']:
        """None / False: no cache; True: the defaults; a dict: its keys (an unknown key is an error)."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if not isinstance(value, dict):
            raise TypeError(f'{owner}: decoded_cache={value!r}; give dict(max_mib=<MiB>) (or True for '
                            f'max_mib={DEFAULT_MAX_MIB:g}, None to read the files at every step).')
        unknown = set(value) - {'max_mib'}
        if unknown:
            raise KeyError(f'{owner}: decoded_cache has unknown keys {sorted(unknown)}; its only key is max_mib '
                           f'(the most MiB of shared memory the decoded images and masks may take), e.g. '
                           f'decoded_cache=dict(max_mib={DEFAULT_MAX_MIB:g}).')
        max_mib = value.get('max_mib', DEFAULT_MAX_MIB)
        if isinstance(max_mib, bool) or not isinstance(max_mib, (int, float)) or not max_mib > 0:
            raise ValueError(f'{owner}: decoded_cache.max_mib={max_mib!r} must be a number of MiB > 0, e.g. '
                             f'decoded_cache=dict(max_mib={DEFAULT_MAX_MIB:g}).')
        return cls(max_mib=float(max_mib))


def loading_prefix(transforms: Sequence[Callable]) -> int:
    """How many of ``transforms``, from the first, are loading steps (deterministic reads of the sample's files)."""
    from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile

    from .transforms import LoadAnnotations, LoadMultiBandImage
    loaders = (MMCVLoadImageFromFile, LoadAnnotations, LoadMultiBandImage)
    count = 0
    for transform in transforms:
        if not isinstance(transform, loaders):
            break
        count += 1
    return count


class DecodedCache:
    """Sample i's loaded results (arrays in one shared uint8 buffer, other values pickled), by dataset index."""

    def __init__(self, buffer: torch.Tensor, records: np.ndarray, ends: np.ndarray) -> None:
        self.buffer = buffer  # shared-memory uint8 tensor: every array, back to back
        self.records = records  # uint8: the pickled (img_path, values, entries) of every sample, back to back
        self.ends = ends  # int64: where each sample's record ends in ``records``
        self._bytes = buffer.numpy()

    @property
    def nbytes(self) -> int:
        return int(self.buffer.numel())

    def __len__(self) -> int:
        return len(self.ends)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('_bytes')
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bytes = self.buffer.numpy()

    @classmethod
    def build(cls, infos: Callable[[int], dict], num: int, load: Callable[[dict], dict], max_mib: float,
              owner: str) -> Optional['DecodedCache']:
        """Run ``load`` on ``infos(i)`` for i < ``num``; None (and a logged reason) when over ``max_mib``."""
        max_bytes = max_mib * 2**20
        start = time.perf_counter()
        records, arrays, total = [], [], 0
        for i in range(num):
            info = infos(i)
            before = dict(info)  # holds the inputs, so 'is' below compares live objects
            results = load(info)
            if results is None:
                raise RuntimeError(f'{owner}: the loading steps returned None for {info.get("img_path")}; '
                                   'decoded_cache caches what they return, so they must return the results.')
            values: dict = {}
            entries: List[_Entry] = []
            for key, value in results.items():
                if before.get(key, _MISSING) is value and not isinstance(value, list):
                    continue  # an input the loading steps left as it was
                if isinstance(value, np.ndarray):
                    value = np.ascontiguousarray(value)
                    entries.append((key, total, tuple(value.shape), value.dtype.str))
                    arrays.append((total, value))
                    total += -(-value.nbytes // _ALIGN) * _ALIGN
                else:
                    values[key] = value
            records.append(pickle.dumps((results.get('img_path'), values, entries), pickle.HIGHEST_PROTOCOL))
            if total > max_bytes:
                print_log(f'{owner}: decoded_cache.max_mib={max_mib:g} is too small: the first {i + 1} '
                          f'of {num} samples already take {total / 2**20:.4g} MiB decoded (about '
                          f'{total / (i + 1) * num / 2**20:.4g} MiB for all). Reading the files at every step '
                          'instead; raise decoded_cache.max_mib to cache them, or drop decoded_cache.',
                          logger='current', level=logging.WARNING)
                return None
        buffer = torch.empty(max(total, 1), dtype=torch.uint8).share_memory_()
        flat = buffer.numpy()
        while arrays:
            offset, value = arrays.pop()
            flat[offset:offset + value.nbytes] = value.reshape(-1).view(np.uint8)
        ends = np.cumsum([len(r) for r in records], dtype=np.int64)
        cache = cls(buffer, np.frombuffer(b''.join(records), dtype=np.uint8), ends)
        print_log(f'{owner}: decoded_cache holds {num} samples decoded once ({total / 2**20:.4g} MiB of shared '
                  f'memory, {time.perf_counter() - start:.1f} s); only the steps after the loading ones run per '
                  'sample.', logger='current', level=logging.INFO)
        return cache

    def restore(self, idx: int, info: dict) -> Optional[dict]:
        """``info`` with what the loading steps gave for sample ``idx`` (arrays copied out of the buffer); None
        when the cached sample is not ``info``'s image (the dataset's sample list changed since it was built)."""
        start = int(self.ends[idx - 1]) if idx else 0
        path, values, entries = pickle.loads(self.records[start:int(self.ends[idx])].tobytes())
        if path != info.get('img_path'):
            return None
        info.update(values)
        for key, offset, shape, dtype in entries:
            dtype = np.dtype(dtype)
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            info[key] = self._bytes[offset:offset + size].view(dtype).reshape(shape).copy()
        return info
