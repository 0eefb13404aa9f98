"""Kill tools/train.py with SIGKILL at five moments and resume each time with --resume: the run continues at the
saved iteration with the same learning rate, batches, random state, weights and optimizer state, and ends with
the same weights, bit for bit, as an uninterrupted run; last_checkpoint always names a complete file.

The moments are injected deterministically from the tests alone (SEGKIT_FAULT=<point>@<n>; tests/fault_plugin.py):
mid-iteration (inside loss.backward()), halfway through writing a checkpoint, during validation, inside a
dataloader worker (which kills the training process), right after a checkpoint and last_checkpoint were written.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from segkit.engine.checkpoint import TMP_MARK
from segkit.fileio.checkpoint import safe_load
from tests.test_train_tools import write_config

REPO = Path(__file__).resolve().parents[1]
ITERS = 12
# (fault point, n-th pass in the process, what the kill interrupts)
FAULTS = [('backward', 3, 'mid-iteration: inside loss.backward() of the 3rd iteration'),
          # resumed at 2, worker 0 loads its 9th sample for batch 8, requested when iteration 4 takes batch 4
          ('worker', 9, 'inside a dataloader worker, loading its 9th sample'),
          ('checkpoint_write', 2, 'halfway through writing the 2nd checkpoint of the run'),
          ('val', 1, 'during validation'),
          ('after_save', 1, 'right after a checkpoint and last_checkpoint were written')]
EXTRA = '''
custom_imports = dict(imports=['tests.fault_plugin'], allow_failed_imports=False)
custom_hooks = [dict(type='FaultAndRecordHook')]
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='FaultPoint'),
    dict(type='RandomResize', scale=(32, 32), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(32, 32)), dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=2, persistent_workers=True,
                        dataset=dict(_data, pipeline=train_pipeline))
train_cfg = dict(max_iters=12, val_interval=4)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1), logger=dict(interval=1),
                     visualization=dict(draw=False))
'''


def train(cfg, work, record, fault=None, resume=False):
    """Run tools/train.py in its own session; once it has exited, kill what it left (dataloader workers of a
    killed run can outlive it, blocked on a queue nobody reads)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', SEGKIT_TEST_RECORD=str(record))
    env.pop('SEGKIT_FAULT', None)
    if fault:
        env['SEGKIT_FAULT'] = fault
    cmd = [sys.executable, str(REPO / 'tools/train.py'), cfg, '--work-dir', str(work)]
    cmd += ['--resume'] if resume else []
    log = work.parent / f'{work.name}.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, env=env, cwd=str(work.parent), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=300)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return proc.returncode, log.read_text()


def records(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def latest(work):
    name = (work / 'last_checkpoint').read_text().strip()
    return name, safe_load(name)  # a complete file: it unpickles, weights_only


def matches_reference(new, reference):
    """Same learning rate, batch (sampler position and the workers' random flips), random state, weights and
    optimizer state at the start of each iteration as the uninterrupted run."""
    return all(r == dict(reference[r['iter']], pid=r['pid']) for r in new)


@pytest.mark.slow
def test_sigkill_at_five_moments_resumes_to_the_same_weights(tmp_path):
    cfg = write_config(tmp_path, iters=ITERS, extra=EXTRA)
    clean_work, clean_record = tmp_path / 'clean', tmp_path / 'clean.jsonl'
    code, output = train(cfg, clean_work, clean_record)
    assert code == 0, output[-3000:]
    reference = {r['iter']: r for r in records(clean_record) if 'iter' in r}
    reference_val = {r['val_at']: r['metrics'] for r in records(clean_record) if 'val_at' in r}
    assert sorted(reference) == list(range(ITERS)) and sorted(reference_val) == [4, 8, 12]

    work, record = tmp_path / 'faulty', tmp_path / 'faulty.jsonl'
    resumed_correctly, saved_iter, moment, leftovers = 0, None, None, []
    for run, fault in enumerate(FAULTS + [None]):
        before = len(records(record)) if record.exists() else 0
        code, output = train(cfg, work, record, fault=fault and f'{fault[0]}@{fault[1]}', resume=run > 0)
        new = records(record)[before:]
        new_iters = [r for r in new if 'iter' in r]
        assert matches_reference(new_iters, reference), moment
        if run > 0:  # resumed from what the previous kill left
            assert f'Resuming at iteration {saved_iter}:' in output, (moment, output[-3000:])
            assert not new_iters or new_iters[0]['iter'] == saved_iter, (moment, saved_iter, new_iters[0])
            assert not any(path.exists() for path in leftovers), moment  # removed by the resumed run
            if saved_iter % 4 == 0 and not (fault and fault[0] == 'val'):  # validation due there runs again
                assert next(r for r in new if 'val_at' in r or 'iter' in r).get('val_at') == saved_iter, moment
            resumed_correctly += 1
        if fault is None:
            assert code == 0, output[-3000:]
            break
        moment = fault[2]
        assert code == -signal.SIGKILL, f'{moment}: not killed\n{output[-3000:]}'
        name, saved = latest(work)
        for path in work.glob('*.pth'):
            safe_load(str(path))  # no truncated checkpoint anywhere
        leftovers = list(work.glob(f'*.pth{TMP_MARK}*'))
        if fault[0] == 'checkpoint_write':  # the kill left a half-written temporary beside the good checkpoint
            assert leftovers, moment
        saved_iter = saved['meta']['iter']

    final = safe_load(str(work / f'iter_{ITERS}.pth'))
    clean = safe_load(str(clean_work / f'iter_{ITERS}.pth'))
    assert final['state_dict'].keys() == clean['state_dict'].keys()
    assert all(torch.equal(final['state_dict'][k], clean['state_dict'][k]) for k in clean['state_dict'])
    vals = {r['val_at']: r['metrics'] for r in records(record) if 'val_at' in r}
    assert vals == reference_val
    print(f'\nfaults injected: {len(FAULTS)}, resumed correctly: {resumed_correctly}, final weights bit-exact')
    assert resumed_correctly == len(FAULTS)
