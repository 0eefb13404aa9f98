"""Random-generator state in checkpoints, so a resumed run draws the same numbers as an uninterrupted one."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from segkit.registry import HOOKS


def capture_random_state() -> dict:
    """Python's, numpy's and torch's (CPU and CUDA) global generators, as tensors and plain containers (loadable
    with ``weights_only=True``)."""
    version, key, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    state = dict(python=dict(version=version, key=torch.tensor(key, dtype=torch.int64), gauss=gauss),
                 numpy=dict(key=torch.from_numpy(numpy_state['state']['key'].astype(np.int64)),
                            pos=int(numpy_state['state']['pos']), has_gauss=int(numpy_state['has_gauss']),
                            gauss=float(numpy_state['gauss'])),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict) -> None:
    python = state['python']
    random.setstate((python['version'], tuple(python['key'].tolist()), python['gauss']))
    numpy = state['numpy']
    np.random.set_state(dict(bit_generator='MT19937',
                             state=dict(key=numpy['key'].cpu().numpy().astype(np.uint32), pos=numpy['pos']),
                             has_gauss=numpy['has_gauss'], gauss=numpy['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Saves the random generators' state with every checkpoint and gives it back on resume.

    Validation runs with the generators forked (state taken in ``before_val``, put back in ``after_val``), so
    whether or not a validation happened (a resumed run does not repeat the one after the checkpoint it starts
    from, except when it was due exactly there) never changes the training's random stream; a checkpoint saved
    during validation (``save_best``) stores the state from before it.

    segkit's ``IterBasedTrainLoop`` registers this hook and calls :meth:`restore_random_state` once the sampler
    has been replayed to the saved iteration. In distributed runs the checkpoint holds rank 0's state and every
    rank restores it (mmengine seeds all ranks alike unless ``randomness.diff_rank_seed=True``).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._before_val: Optional[dict] = None
        self._resumed: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = self._before_val or capture_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed = checkpoint.get('random_state')

    def before_val(self, runner) -> None:
        self._before_val = capture_random_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            restore_random_state(self._before_val)
        self._before_val = None

    def restore_random_state(self, runner) -> None:
        if self._resumed is None:
            runner.logger.warning('The checkpoint resumed from holds no random-generator state (it was not saved '
                                  "by segkit's training loop): training continues, but not exactly as an "
                                  'uninterrupted run would.')
            return
        restore_random_state(self._resumed)
        self._resumed = None
