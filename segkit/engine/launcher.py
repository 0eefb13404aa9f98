"""Where this process sits in a distributed run, read from the launcher's environment, and the process group
started before mmengine's Runner (which then uses it as it is).

mmengine's ``init_dist`` reads ``LOCAL_RANK`` (torchrun), ``SLURM_LOCALID`` (srun) or, for ``--launcher mpi``,
``OMPI_COMM_WORLD_LOCAL_RANK`` only (Open MPI); its DDP wrapper then reads ``LOCAL_RANK``, which MPI launchers do
not set. Here the local rank comes from whichever launcher started the process, and a clear error names the
variables when none did.
"""
import datetime
import os
from contextlib import contextmanager
from typing import Iterator, Mapping, Optional, Tuple

import torch

# (local rank, rank, world size) as each MPI implementation names them
MPI_VARIABLES = (('OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'),  # Open MPI
                 ('MV2_COMM_WORLD_LOCAL_RANK', 'MV2_COMM_WORLD_RANK', 'MV2_COMM_WORLD_SIZE'),  # MVAPICH2
                 ('MPI_LOCALRANKID', 'PMI_RANK', 'PMI_SIZE'),  # MPICH / Intel MPI (Hydra)
                 ('PALS_LOCAL_RANKID', 'PALS_RANKID', 'PMI_SIZE'))  # Cray PALS
LOCAL_RANK_VARIABLES = ('LOCAL_RANK', 'SLURM_LOCALID') + tuple(names[0] for names in MPI_VARIABLES)


def local_rank(environ: Optional[Mapping[str, str]] = None) -> int:
    """This process's rank on its machine (0 when not launched as one of several)."""
    environ = os.environ if environ is None else environ
    for name in LOCAL_RANK_VARIABLES:
        if environ.get(name, '').strip().isdigit():
            return int(environ[name])
    return 0


def local_cuda_device() -> int:
    """The GPU this process trains on: the current device once the process group exists (the launcher code sets
    it), before that the local rank's, without creating a CUDA context anywhere."""
    if torch.cuda.is_initialized():
        return torch.cuda.current_device()
    index = local_rank()
    count = torch.cuda.device_count()
    return index if index < count else 0  # one visible GPU per process (CUDA_VISIBLE_DEVICES set per rank)


def mpi_environment(environ: Optional[Mapping[str, str]] = None) -> Tuple[int, int, int]:
    """(local rank, rank, world size) under ``--launcher mpi``, or a ``KeyError`` naming what is missing."""
    environ = os.environ if environ is None else environ
    for names in MPI_VARIABLES:
        if all(environ.get(name, '').strip().isdigit() for name in names):
            return tuple(int(environ[name]) for name in names)
    known = '; '.join(', '.join(names) for names in MPI_VARIABLES)
    raise KeyError(f'--launcher mpi: no MPI rank variables in the environment (looked for {known}). Start the '
                   'tools with mpirun / mpiexec, or use --launcher pytorch (tools/dist_train.sh, torchrun) or '
                   '--launcher slurm (tools/slurm_train.sh)')


def init_distributed(launcher: str, env_cfg: Optional[Mapping] = None) -> None:
    """Start the process group before the Runner does, so that work that must run once per machine before the
    model is built (downloading weights) can wait on it; mmengine's Runner then finds it and goes on.

    ``pytorch`` and ``slurm`` with CUDA: mmengine's ``init_dist`` (``torch.cuda.set_device`` to the local rank,
    then NCCL). ``mpi``: the rank variables of Open MPI, MVAPICH2, MPICH / Intel MPI or Cray PALS become
    ``LOCAL_RANK`` / ``RANK`` / ``WORLD_SIZE`` (mmengine's DDP wrapper reads ``LOCAL_RANK``); ``MASTER_ADDR``
    must be set (``MASTER_PORT`` defaults to 29500). ``pytorch`` and ``mpi`` without CUDA: gloo (mmengine's
    ``init_dist`` always calls ``torch.cuda.set_device``); ``slurm`` goes to mmengine's ``init_dist`` either way.
    From ``env_cfg``: ``mp_cfg`` (set first, as the Runner does) and ``dist_cfg`` (``backend``, ``timeout`` in
    seconds).
    """
    import torch.distributed as dist
    from mmengine.utils.dl_utils import set_multi_processing
    if launcher == 'none' or (dist.is_available() and dist.is_initialized()):
        return
    env_cfg = env_cfg or {}
    set_multi_processing(**env_cfg.get('mp_cfg', {}), distributed=True)
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    cuda = torch.cuda.is_available()
    backend = dist_cfg.pop('backend', 'nccl' if cuda else 'gloo')
    timeout = dist_cfg.pop('timeout', None)
    if launcher == 'mpi':
        local, rank, world_size = mpi_environment()
        os.environ.update(LOCAL_RANK=str(local), RANK=str(rank), WORLD_SIZE=str(world_size))
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise KeyError('--launcher mpi: set MASTER_ADDR (the address of rank 0\'s machine) in the environment, '
                           'e.g. mpirun -x MASTER_ADDR=10.0.0.1 ...')
    elif launcher == 'slurm' or cuda:
        from mmengine.dist import init_dist
        init_dist(launcher, backend=backend, **({} if timeout is None else dict(timeout=timeout)), **dist_cfg)
        return
    if cuda:
        torch.cuda.set_device(local_rank())
    kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
    dist.init_process_group(backend=backend, **kwargs, **dist_cfg)


@contextmanager
def local_rank_first() -> Iterator[None]:
    """Run the block on local rank 0 of every machine first, then on the other ranks (which find what it
    downloaded in the cache). Needs the process group; without one the block just runs. If local rank 0 fails,
    the others still pass the barrier (then run the block themselves, most likely failing the same way)."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        yield
        return
    first = local_rank() == 0
    if not first:
        dist.barrier()
    try:
        yield
    finally:
        if first:
            dist.barrier()
