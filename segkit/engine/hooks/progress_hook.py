"""A live progress bar for iteration-based training (rich), next to mmengine's periodic log lines."""
from typing import Optional

from mmengine.hooks import Hook
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from segkit.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Shows iteration / max_iters, the latest loss and the time remaining; only rank 0 draws."""

    priority = 'VERY_LOW'

    def __init__(self, *, refresh_per_second: float = 2.0):
        self.refresh_per_second = refresh_per_second
        self._progress: Optional[Progress] = None
        self._task = None

    def before_train(self, runner) -> None:
        if runner.rank != 0:
            return
        self._progress = Progress(
            TextColumn('[bold]train'), BarColumn(), MofNCompleteColumn(), TextColumn('{task.fields[loss]}'),
            TimeElapsedColumn(), TextColumn('eta'), TimeRemainingColumn(),
            console=Console(stderr=True), refresh_per_second=self.refresh_per_second, transient=False)
        self._progress.start()
        self._task = self._progress.add_task('train', total=runner.max_iters, completed=runner.iter, loss='')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._progress is None:
            return
        loss = ''
        if outputs and 'loss' in outputs:
            loss = f"loss {float(outputs['loss'].detach()):.3f}"
        self._progress.update(self._task, completed=runner.iter + 1, loss=loss)

    def after_train(self, runner) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def before_val(self, runner) -> None:  # keep the bar from interleaving with the evaluation table
        if self._progress is not None:
            self._progress.stop()

    def after_val(self, runner) -> None:
        if self._progress is not None and runner.iter < runner.max_iters:
            self._progress.start()
