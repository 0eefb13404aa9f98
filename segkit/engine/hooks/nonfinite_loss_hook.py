"""What happens when a training step's loss is NaN or infinite."""
import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from segkit.registry import HOOKS

SKIPPED_KEY = 'nonfinite_loss_skipped'  # message hub runtime info: saved in checkpoints, so counts survive resume


class NonFiniteLossError(FloatingPointError):
    pass


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Looks at the loss of each step before its optimizer step (all ranks agree on the verdict): after the
    backward pass has been issued, or before it when gradients accumulate over several iterations.

    ``action='stop'``: raise :class:`NonFiniteLossError` naming the iteration and the last good checkpoint; the
    weights are untouched by the bad step. ``action='skip'``: no optimizer step for that iteration (its gradients
    are dropped; the learning-rate schedule moves on), a warning names the iteration, the count is kept in
    checkpoints (message hub ``nonfinite_loss_skipped``) and logged at the end; ``max_consecutive_skips`` in a row
    stop the run.

    segkit's ``IterBasedTrainLoop`` registers it from ``train_cfg.nonfinite_loss``. It guards the optimizer
    wrapper's ``update_params`` (the call every ``train_step`` makes with the summed loss) and ``step`` from
    ``before_train`` to ``after_train``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'stop', max_consecutive_skips: int = 50) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook: action (train_cfg.nonfinite_loss) must be 'stop' or 'skip', "
                             f'got {action!r}')
        self.action = action
        self.max_consecutive_skips = max_consecutive_skips
        self.consecutive = 0

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        update_params, step = wrapper.update_params, wrapper.step
        # Without gradient accumulation the verdict waits until the backward pass has been issued (a GPU then
        # runs it while the host waits for the verdict, instead of idling between forward and backward); with
        # accumulation a bad backward would spoil the gradients gathered so far, so it is judged before.
        after_backward = getattr(wrapper, '_accumulative_counts', 1) == 1

        def guarded_update_params(loss, *args, **kwargs):
            if after_backward:
                self._loss = loss
                try:
                    return update_params(loss, *args, **kwargs)
                finally:
                    self._loss = None
            if self._finite_on_all_ranks(loss):
                self.consecutive = 0
                return update_params(loss, *args, **kwargs)
            return self._non_finite(runner, wrapper, loss)

        def guarded_step(*args, **kwargs):
            loss = self._loss
            if loss is None or self._finite_on_all_ranks(loss):  # a step outside update_params, or a good one
                self.consecutive = 0
                return step(*args, **kwargs)
            # no step: update_params zeroes the bad gradients next; its backward counted the iteration already
            return self._non_finite(runner, wrapper, loss, counted=True)

        self._loss = None
        wrapper.update_params = guarded_update_params
        if after_backward:
            wrapper.step = guarded_step

    def after_train(self, runner) -> None:
        vars(runner.optim_wrapper).pop('update_params', None)
        vars(runner.optim_wrapper).pop('step', None)
        skipped = runner.message_hub.get_info(SKIPPED_KEY, 0)
        if skipped:
            runner.logger.warning(f'{skipped} training steps were skipped because their loss was not finite.')

    @staticmethod
    def _finite_on_all_ranks(loss: torch.Tensor) -> bool:
        finite = torch.isfinite(loss.detach()).all().float()
        if get_world_size() > 1:
            all_reduce(finite, op='min')
        return bool(finite.item())

    def _non_finite(self, runner, wrapper, loss, counted: bool = False) -> None:
        iteration = runner.iter + 1  # as the log lines count
        value = loss.detach().float().sum().item()
        value = value if not torch.isfinite(torch.tensor(value)) else f'not finite on another rank ({value} here)'
        if self.action == 'stop':
            last = runner.message_hub.get_info('last_ckpt')
            where = (f'the last good checkpoint is {last}: fix the cause and continue from it with --resume'
                     if last else 'no checkpoint was saved before it')
            raise NonFiniteLossError(
                f'iteration {iteration}: the loss is {value}; training stopped before this step changed the '
                f'weights; {where}. Usual causes: a learning rate too high (lower optimizer.lr, or set '
                'optim_wrapper.clip_grad=dict(max_norm=...)), labels outside the classes, float16 overflow. '
                "train_cfg.nonfinite_loss='skip' skips such steps instead.")
        if not counted:
            wrapper.zero_grad()
            wrapper._inner_count += 1  # the step counts as taken, as mmengine's gradient accumulation expects
        skipped = runner.message_hub.get_info(SKIPPED_KEY, 0) + 1
        runner.message_hub.update_info(SKIPPED_KEY, skipped)
        runner.logger.warning(f'iteration {iteration}: the loss is {value}; step skipped '
                              f'({skipped} skipped so far).')
        self.consecutive += 1
        if self.consecutive >= self.max_consecutive_skips:
            raise NonFiniteLossError(f'iteration {iteration}: {self.consecutive} steps in a row had a non-finite '
                                     'loss; stopping instead of skipping more.')
