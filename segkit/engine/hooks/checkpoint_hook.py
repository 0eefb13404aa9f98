"""segkit's CheckpointHook: mmengine's, except that ``last_checkpoint`` always names a complete file."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.runner.checkpoint import find_latest_checkpoint

from segkit.engine.checkpoint import remove_stale_temporaries, write_atomically
from segkit.engine.consistency import check_checkpoint_fits
from segkit.registry import HOOKS
from .resume_state_hook import ResumeStateHook


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), registered under the same name in segkit's hook registry
    so that configs get it unchanged (mmengine's stays reachable as ``type='mmengine.CheckpointHook'``).

    mmengine 0.10.7 deletes the checkpoints beyond ``max_keep_ckpts`` before writing the new one and writes
    ``last_checkpoint`` in place: killed while saving with ``max_keep_ckpts=1`` no checkpoint is left, killed while
    writing ``last_checkpoint`` it is empty. Here the new checkpoint is written (atomically, under
    :func:`~segkit.engine.checkpoint.safe_checkpoint_io`), then ``last_checkpoint`` (atomically), and only then
    are old checkpoints deleted. Temporaries left by a killed save are removed when training starts.

    A checkpoint being loaded (``load_from``, ``--resume``, ``tools/test.py``) is first checked against the model:
    one of another architecture, or any mismatch when resuming, is an error listing the keys
    (:func:`~segkit.engine.consistency.check_checkpoint_fits`) instead of mmengine's warning.

    mmengine saves on rank 0 only; right before each save every rank hands its random-generator state to rank 0
    (:meth:`ResumeStateHook.gather`), so that the checkpoint holds all of them.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(self.out_dir):
            for path in remove_stale_temporaries(self.out_dir):
                runner.logger.info(f'removed {path}, left by a save that was interrupted')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        source = runner._load_from or find_latest_checkpoint(runner.work_dir) or 'the checkpoint'
        check_checkpoint_fits(runner.model, checkpoint.get('state_dict', checkpoint), source, resume=runner._resume)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if self.save_best:  # every rank gets here with the same (broadcast) metrics
            _gather_random_states(runner)
        super()._save_best_checkpoint(runner, metrics)

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        _gather_random_states(runner)
        runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
                               backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_atomically(osp.join(runner.work_dir, 'last_checkpoint'), str(self.last_ckpt).encode())
        for old_step in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed saves directories
                self.file_backend.rmtree(path)


def _gather_random_states(runner) -> None:
    for hook in runner.hooks:
        if isinstance(hook, ResumeStateHook):
            hook.gather(runner)
