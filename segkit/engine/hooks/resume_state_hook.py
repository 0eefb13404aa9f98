"""Random-generator state in checkpoints, so a resumed run draws the same numbers as an uninterrupted one; and the
total batch a checkpoint was trained with, so that resuming on another number of processes is noticed."""
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook

from segkit.registry import HOOKS


def capture_random_state() -> dict:
    """This process's generators: Python's, numpy's, torch's CPU one and, when CUDA is in use, the one of this
    process's GPU (``torch.cuda.current_device()``, which the launcher set to the local rank's GPU). Tensors and
    plain containers only, so the checkpoint loads with ``weights_only=True``."""
    version, key, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    state = dict(python=dict(version=version, key=torch.tensor(key, dtype=torch.int64), gauss=gauss),
                 numpy=dict(key=torch.from_numpy(numpy_state['state']['key'].astype(np.int64)),
                            pos=int(numpy_state['state']['pos']), has_gauss=int(numpy_state['has_gauss']),
                            gauss=float(numpy_state['gauss'])),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state(torch.cuda.current_device())
    return state


def restore_random_state(state: dict) -> List[str]:
    """Set this process's generators to ``state`` (one process's, from :func:`capture_random_state`); returns
    notes on what could not be restored (a CUDA state saved without CUDA here, or the reverse)."""
    python = state['python']
    random.setstate((python['version'], tuple(python['key'].tolist()), python['gauss']))
    numpy = state['numpy']
    np.random.set_state(dict(bit_generator='MT19937',
                             state=dict(key=numpy['key'].cpu().numpy().astype(np.uint32), pos=numpy['pos']),
                             has_gauss=numpy['has_gauss'], gauss=numpy['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    cuda_here = torch.cuda.is_available()
    saved = state.get('cuda')
    if saved is None:
        return ['the checkpoint holds no CUDA generator state (it was saved by a CPU run)'] if cuda_here else []
    if not cuda_here:
        return ['the CUDA generator state in the checkpoint is not used: CUDA is not available here']
    device = torch.cuda.current_device()
    if isinstance(saved, (list, tuple)):  # older checkpoints: every GPU rank 0 saw, indexed by device
        if device >= len(saved):
            return [f'the checkpoint holds CUDA generator states for {len(saved)} GPUs, none for GPU {device}']
        saved = saved[device]
    torch.cuda.set_rng_state(saved.cpu(), device)
    return []


def per_rank_states(random_state: Optional[dict]) -> Optional[list]:
    """The list of per-rank states in a checkpoint's ``random_state`` (older checkpoints hold one state)."""
    if random_state is None:
        return None
    return list(random_state['ranks']) if 'ranks' in random_state else [random_state]


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Saves every rank's random generators with each checkpoint and gives each rank its own back on resume.

    Validation runs with the generators forked (state taken in ``before_val``, put back in ``after_val``), so
    whether or not a validation happened (a resumed run does not repeat the one after the checkpoint it starts
    from, except when it was due exactly there) never changes the training's random stream; a checkpoint saved
    during validation (``save_best``) stores the state from before it.

    Distributed: mmengine writes checkpoints on rank 0 alone, so segkit's :class:`CheckpointHook` calls
    :meth:`gather` on every rank just before each save; the checkpoint then holds ``random_state = dict(
    world_size=N, ranks=[state of rank 0, ..., state of rank N-1])``, each with that rank's CPU generators and
    the CUDA generator of its own GPU. On resume every rank restores the state saved by the rank of its number.
    Resumed with another number of ranks, rank ``r`` takes the state of rank ``r % N`` and the log says so (the
    run continues, but it no longer follows the uninterrupted run: the sampler splits the data differently).

    segkit's ``IterBasedTrainLoop`` registers this hook and calls :meth:`restore_random_state` once the sampler
    has been replayed to the saved iteration, and :meth:`check_total_batch` once the optimizer and schedulers are
    resumed: the checkpoint's ``meta`` records ``world_size`` and ``total_batch`` (world size x batch per process
    x accumulated steps).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._before_val: Optional[dict] = None
        self._gathered: Optional[list] = None
        self._resumed: Optional[dict] = None
        self._resumed_meta: dict = {}

    # --------------------------------------------------------------------------------------------------- save
    def gather(self, runner) -> None:
        """Every rank, right before a checkpoint is saved: rank 0 collects all ranks' generator states (those from
        before the validation when called during one)."""
        state = self._before_val or capture_random_state()
        rank, world_size = get_dist_info()
        self._gathered = all_gather_object(state) if world_size > 1 else [state]
        if rank != 0:
            self._gathered = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered or [self._before_val or capture_random_state()]
        checkpoint['random_state'] = dict(world_size=runner.world_size, ranks=states)
        checkpoint.setdefault('meta', {}).update(world_size=runner.world_size, total_batch=total_batch(runner))

    # ------------------------------------------------------------------------------------------------- resume
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed = checkpoint.get('random_state')
        self._resumed_meta = dict(checkpoint.get('meta') or {})

    def before_val(self, runner) -> None:
        self._before_val = capture_random_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            restore_random_state(self._before_val)
        self._before_val = self._gathered = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._gathered = None  # runs before the CheckpointHook's (priority): a save after it gathers afresh

    def restore_random_state(self, runner) -> None:
        states = per_rank_states(self._resumed)
        self._resumed = None
        if states is None:
            runner.logger.warning('The checkpoint resumed from holds no random-generator state (it was not saved '
                                  "by segkit's training loop): training continues, but not exactly as an "
                                  'uninterrupted run would.')
            return
        rank, world_size = runner.rank, runner.world_size
        notes = restore_random_state(states[rank % len(states)])
        if len(states) != world_size:
            notes.append(f'the checkpoint holds the generators of {len(states)} rank(s) and this run has '
                         f'{world_size}: rank {rank} restored those of rank {rank % len(states)}')
        for note in notes:
            runner.logger.warning(f'Resume, random generators: {note}. Training continues, but not exactly as an '
                                  'uninterrupted run would.')

    def check_total_batch(self, runner) -> None:
        """Warn when the checkpoint was trained with another total batch; with ``--auto-scale-lr`` scale the
        resumed learning rates by the ratio (the linear scaling rule), else keep them and say so.

        mmengine 0.10.7's own guard for this reads ``meta['config']`` while its checkpoints hold ``meta['cfg']``,
        so it never fires; and its ``auto_scale_lr`` scales the optimizer before the resumed state overwrites it.
        """
        saved = self._resumed_meta.get('total_batch')
        now = total_batch(runner)
        if not saved or saved == now:
            return
        was = f"{self._resumed_meta.get('world_size', '?')} process(es), total batch {saved}"
        here = f'{runner.world_size} process(es), total batch {now}'
        if runner.auto_scale_lr and runner.auto_scale_lr.get('enable', False):
            ratio = now / saved
            scale_learning_rates(runner, ratio)
            runner.logger.warning(f'Resuming a checkpoint trained with {was} on {here}: --auto-scale-lr scales the '
                                  f'resumed learning rates by {now}/{saved} = {ratio:g}.')
        else:
            runner.logger.warning(f'Resuming a checkpoint trained with {was} on {here}: the learning rate continues '
                                  f'as saved, which was set for a batch of {saved}. Pass --auto-scale-lr to scale '
                                  f'it by {now}/{saved} (the linear scaling rule), or resume on the same number of '
                                  'processes.')


def total_batch(runner) -> int:
    """Images per optimizer step over all processes: world size x batch per process x accumulated steps."""
    loader = runner.train_dataloader
    batch = getattr(loader, 'batch_size', None) or 1
    accumulate = getattr(runner.optim_wrapper, '_accumulative_counts', 1) or 1
    return int(runner.world_size * batch * accumulate)


def scale_learning_rates(runner, ratio: float) -> None:
    """Multiply the optimizer's learning rates (current and initial) and the LR schedulers' base values."""
    wrappers = runner.optim_wrapper.values() if hasattr(runner.optim_wrapper, 'values') else [runner.optim_wrapper]
    for wrapper in wrappers:
        for group in wrapper.optimizer.param_groups:
            for key in ('lr', 'initial_lr'):
                if key in group:
                    group[key] = group[key] * ratio
    schedulers = runner.param_schedulers or []
    if isinstance(schedulers, dict):
        schedulers = [s for group in schedulers.values() for s in group]
    for scheduler in schedulers:
        if getattr(scheduler, 'param_name', None) == 'lr':
            scheduler.base_values = [value * ratio for value in scheduler.base_values]
            if getattr(scheduler, '_last_value', None):
                scheduler._last_value = [value * ratio for value in scheduler._last_value]
