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
    """Looks at the loss of each step before its backward pass (all ranks agree on the verdict).

    ``action='stop'``: raise :class:`NonFiniteLossError` naming the iteration and the last good checkpoint; the
    weights are untouched by the bad step. ``action='skip'``: no backward pass and no optimizer step for that
    iteration (the learning-rate schedule moves on), a warning names the iteration, the count is kept in
    checkpoints (message hub ``nonfinite_loss_skipped``) and logged at the end; ``max_consecutive_skips`` in a row
    stop the run.

    segkit's ``IterBasedTrainLoop`` registers it from ``train_cfg.nonfinite_loss``. It guards the optimizer
    wrapper's ``update_params`` (the call every ``train_step`` makes with the summed loss) from ``before_train``
    to ``after_train``.
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
        update_params = wrapper.update_params

        def guarded_update_params(loss, *args, **kwargs):
            if self._finite_on_all_ranks(loss):
                self.consecutive = 0
                return update_params(loss, *args, **kwargs)
            return self._non_finite(runner, wrapper, loss)

        wrapper.update_params = guarded_update_params

    def after_train(self, runner) -> None:
        vars(runner.optim_wrapper).pop('update_params', None)
        skipped = runner.message_hub.get_info(SKIPPED_KEY, 0)
        if skipped:
            runner.logger.warning(f'{skipped} training steps were skipped because their loss was not finite.')

    @staticmethod
    def _finite_on_all_ranks(loss: torch.Tensor) -> bool:
        finite = torch.isfinite(loss.detach()).all().float()
        if get_world_size() > 1:
            all_reduce(finite, op='min')
        return bool(finite.item())

    def _non_finite(self, runner, wrapper, loss) -> None:
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
