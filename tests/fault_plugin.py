"""Imported by the crash tests' configs (custom_imports): the fault points where the tests kill training, and a
record of what each iteration starts from. Fault points do nothing unless SEGKIT_FAULT names them."""
import hashlib
import json
import os
import random

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.hooks import Hook

from segkit.engine.faults import fault_point
from segkit.registry import HOOKS, TRANSFORMS

RECORD_ENV = 'SEGKIT_TEST_RECORD'  # a JSON-lines file each process appends its records to


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = a.detach().cpu().contiguous().numpy() if torch.is_tensor(a) else np.ascontiguousarray(a)
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _record(entry: dict) -> None:
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps(entry) + '\n')


@HOOKS.register_module()
class FaultAndRecordHook(Hook):
    """Records each iteration's learning rate, batch, random state, weights and optimizer state; fault points
    'backward' (inside loss.backward(), mid-iteration), 'val' (during validation) and 'after_save' (right after
    a checkpoint and last_checkpoint were written)."""

    priority = 'LOWEST'  # after the CheckpointHook

    def before_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        first = next(p for p in model.parameters() if p.requires_grad)
        first.register_hook(lambda grad: fault_point('backward'))
        self.last_ckpt = runner.message_hub.get_info('last_ckpt')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = getattr(runner.model, 'module', runner.model)
        optimizer = runner.optim_wrapper.optimizer
        opt_state = [t for group in optimizer.param_groups for p in group['params']
                     for _, t in sorted(optimizer.state.get(p, {}).items()) if torch.is_tensor(t)]
        _record(dict(pid=os.getpid(), iter=runner.iter, lr=runner.optim_wrapper.get_lr()['lr'][0],
                     batch=[s.img_path.rsplit('/', 1)[-1] for s in data_batch['data_samples']],
                     flips=[bool(s.metainfo.get('flip')) for s in data_batch['data_samples']],
                     rng=digest([torch.get_rng_state(), np.random.get_state()[1],
                                 np.array(random.getstate()[1], dtype=np.int64)]),
                     weights=digest(list(model.state_dict().values())), optimizer=digest(opt_state)))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        last = runner.message_hub.get_info('last_ckpt')
        if last != self.last_ckpt:
            self.last_ckpt = last
            fault_point('after_save')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        fault_point('val')

    def after_val_epoch(self, runner, metrics=None):
        _record(dict(pid=os.getpid(), val_at=runner.iter, metrics=metrics))


@TRANSFORMS.register_module()
class FaultPoint(BaseTransform):
    """In a train pipeline: fault point 'worker'; inside a dataloader worker it kills the training process."""

    def transform(self, results):
        in_worker = torch.utils.data.get_worker_info() is not None
        fault_point('worker', pid=os.getppid() if in_worker else 0)
        return results
