"""Imported by the crash tests' configs (custom_imports): the fault points where the tests kill training, and a
record of what each iteration starts from. Nothing in segkit knows of them: the points are hooks, a transform and
a wrapper around the checkpoint writer, all here.

``SEGKIT_FAULT=<point>@<n>`` in the environment makes the n-th pass through ``fault_point('<point>')`` in that
process send SIGKILL, to itself or to ``pid``; with ``SEGKIT_FAULT_RANK=<r>`` only in the process of that rank
(torchrun's ``RANK``). Unset, a fault point does nothing. The points: 'backward' (inside loss.backward()), 'val'
(during validation), 'worker' (in a dataloader worker), 'after_save' (right after a checkpoint and
last_checkpoint were written) and 'checkpoint_write' (halfway through writing a checkpoint file).
"""
import hashlib
import json
import os
import random
import signal
from collections import Counter

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.hooks import Hook

from segkit.engine import checkpoint
from segkit.registry import HOOKS, TRANSFORMS

FAULT_ENV = 'SEGKIT_FAULT'
RANK_ENV = 'SEGKIT_FAULT_RANK'
_passes: Counter = Counter()


def fault_point(name: str, pid: int = 0) -> None:
    """SIGKILL this process (or ``pid``) on the n-th pass when ``SEGKIT_FAULT=<name>@<n>``; else nothing."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, nth = spec.partition('@')
    if point != name or os.environ.get(RANK_ENV, os.environ.get('RANK', '0')) != os.environ.get('RANK', '0'):
        return
    _passes[name] += 1
    if _passes[name] == int(nth or 1):
        os.kill(pid or os.getpid(), signal.SIGKILL)


_write_atomically = checkpoint.write_atomically


def _write_with_fault_point(filepath, payload: bytes) -> None:
    """segkit's atomic writer with fault point 'checkpoint_write' halfway through each ``.pth`` file: half the
    payload is in the writer's temporary when the process is killed, as in a crash while saving."""
    if os.fspath(filepath).endswith('.pth') and os.environ.get(FAULT_ENV, '').partition('@')[0] == 'checkpoint_write':
        with open(f'{os.fspath(filepath)}{checkpoint.TMP_MARK}{os.getpid()}', 'wb') as f:
            f.write(payload[:len(payload) // 2])
            f.flush()
        fault_point('checkpoint_write')
    _write_atomically(filepath, payload)


checkpoint.write_atomically = _write_with_fault_point  # AtomicLocalBackend writes checkpoints through it

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
