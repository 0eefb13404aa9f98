"""segkit's iteration-based training loop: mmengine's, made to resume exactly.

Registered as ``IterBasedTrainLoop`` in segkit's loop registry, which ``default_scope='segkit'`` searches before
mmengine's, so every config (MMSegmentation-style ones included) gets it unchanged; mmengine's stays reachable as
``type='mmengine.IterBasedTrainLoop'``. What it adds to mmengine 0.10.7's loop:

- after ``--resume`` has replayed the sampler to the saved iteration (mmengine's way: the skipped batches are
  loaded again, so the dataloader workers' random streams and the sampler are where they were), the random
  generators of the main process are set back to their state at the save (:class:`ResumeStateHook` stores
  them in the checkpoint); with a fixed seed the resumed run then trains to the same weights as an uninterrupted
  one (each rank restores its own generators, CPU and GPU);
- resumed on another number of processes (another total batch), the learning rate is scaled with
  ``--auto-scale-lr`` and a warning says so either way;
- validation due at the saved iteration is run again, since the checkpoint is written before it (a crash during
  validation would otherwise lose that evaluation, and with ``save_best`` perhaps the best checkpoint);
- ``nonfinite_loss='stop'`` (default) or ``'skip'``: what :class:`NonFiniteLossHook` does with a NaN/inf loss;
- before training, the model's ``num_classes`` is checked against the dataset's classes;
- ``compile=True`` (or a dict of ``torch.compile`` arguments): compiled training steps, with the compile time
  logged once (:mod:`segkit.engine.compile`).
"""
import logging

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop

from segkit.registry import LOOPS
from .compile import CompileTimer, compile_training, resolve_compile
from .consistency import check_model_fits_dataset
from .hooks.nonfinite_loss_hook import NonFiniteLossHook
from .hooks.resume_state_hook import ResumeStateHook


def _hook_of_type(runner, hook_type, **kwargs):
    """The runner's hook of ``hook_type``; registered here when the config has none."""
    for hook in runner.hooks:
        if isinstance(hook, hook_type):
            return hook
    hook = hook_type(**kwargs)
    runner.register_hook(hook)
    return hook


@LOOPS.register_module()
class IterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` (same arguments) with exact resumption; see the module docstring.

    Args:
        nonfinite_loss: ``'stop'`` raises at the first NaN/inf loss, before it changes the weights, naming the
            iteration and the last good checkpoint; ``'skip'`` skips such steps, counting and logging them.
        compile: ``True`` or a dict of ``torch.compile`` arguments: the training step's forward and backward run
            compiled (:mod:`segkit.engine.compile`); validated here, before anything is built.
    """

    def __init__(self, runner, dataloader, max_iters: int, val_begin: int = 1, val_interval: int = 1000,
                 dynamic_intervals=None, nonfinite_loss: str = 'stop', compile=None) -> None:
        self.compile_kwargs = resolve_compile(compile)
        self.compile_timer = None
        super().__init__(runner, dataloader, max_iters, val_begin=val_begin, val_interval=val_interval,
                         dynamic_intervals=dynamic_intervals)
        check_model_fits_dataset(runner.model, self.dataloader.dataset, 'train_dataloader')
        self.resume_state = _hook_of_type(runner, ResumeStateHook)
        _hook_of_type(runner, NonFiniteLossHook, action=nonfinite_loss)

    def run(self):
        compiled = compile_training(self.runner.model, self.compile_kwargs)
        self.compile_timer = None if compiled is None else CompileTimer(compiled)
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self.resume_state.check_total_batch(self.runner)
            print_log(f'Resuming at iteration {self._iter}: replaying the sampler over the {self._iter} batches '
                      'already trained on', logger='current', level=logging.INFO)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            self.resume_state.restore_random_state(self.runner)
            self._decide_current_val_interval()
            if self._validation_due():
                self.runner.val_loop.run()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if self._validation_due():
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_iter(self, data_batch) -> None:
        if self.compile_timer is None or self.compile_timer.done:
            return super().run_iter(data_batch)
        return self.compile_timer.time_step(lambda: super(IterBasedTrainLoop, self).run_iter(data_batch))

    def _validation_due(self) -> bool:
        return (self.runner.val_loop is not None and self._iter >= self.val_begin
                and (self._iter % self.val_interval == 0 or self._iter == self._max_iters))
