"""Run a function on several CPU processes joined by a gloo process group, as torchrun would start them, and fake
GPUs in one process (device count, current device, generators) for code that only asks torch.cuda questions."""
import os
import socket
from typing import Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_ranks(fn: Callable, *args, world_size: int = 2) -> None:
    """``fn(rank, *args)`` in ``world_size`` spawned processes with RANK / LOCAL_RANK / WORLD_SIZE / MASTER_* set
    and the gloo group initialised; an exception in any rank fails the caller with that rank's traceback.
    ``fn`` must be importable (a module-level function)."""
    mp.start_processes(_rank_main, args=(fn, world_size, free_port(), args), nprocs=world_size, join=True,
                       start_method='spawn')


def _rank_main(rank: int, fn: Callable, world_size: int, port: int, args: tuple) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        fn(rank, *args)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def fake_gpus(monkeypatch, count: int, current: int = 0) -> tuple:
    """``count`` fake GPUs, ``current`` the current one, for torch.cuda's generator functions (whose states are
    CPU generators' here); returns the generators."""
    generators = tuple(torch.Generator().manual_seed(1000 + i) for i in range(count))
    for module in (torch.cuda, torch.cuda.random):
        monkeypatch.setattr(module, 'is_initialized', lambda: True)
        monkeypatch.setattr(module, 'current_device', lambda: current)
        monkeypatch.setattr(module, 'device_count', lambda: count)
    monkeypatch.setattr(torch.cuda.random, '_lazy_init', lambda: None)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'default_generators', generators)
    return generators
