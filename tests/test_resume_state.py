"""What a checkpoint keeps for an exact resume on several processes and GPUs: every rank's own random generators
(gathered to rank 0, which alone writes the file; each rank takes its own back), the CUDA generator of each
rank's own GPU (so a machine with fewer GPUs resumes), and the total batch (resumed on another number of processes,
the learning rate is scaled with --auto-scale-lr, and a warning says so either way)."""
import logging
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
from mmengine.optim import OptimWrapper, PolyLR

from segkit.engine.checkpoint import safe_checkpoint_io
from segkit.engine.hooks.resume_state_hook import ResumeStateHook, capture_random_state, restore_random_state
from segkit.fileio.checkpoint import safe_load
from tests.rank_support import fake_gpus, run_ranks
from tests.test_train_tools import train_tool, write_config


class ListLogger(logging.Logger):
    def __init__(self):
        super().__init__('resume-test')
        self.lines = []

    def _log(self, level, msg, args, **kwargs):
        self.lines.append(str(msg))


def fake_runner(rank=0, world_size=1, batch_size=2, optim_wrapper=None, schedulers=None, auto_scale_lr=None):
    return SimpleNamespace(rank=rank, world_size=world_size, logger=ListLogger(),
                           train_dataloader=SimpleNamespace(batch_size=batch_size),
                           optim_wrapper=optim_wrapper or SimpleNamespace(_accumulative_counts=1),
                           param_schedulers=schedulers, auto_scale_lr=auto_scale_lr)


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def draws():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def _save_then_resume_on_each_rank(rank, path):
    """Rank r seeds with 10 + r, the checkpoint is saved as segkit's CheckpointHook + mmengine do it (every rank
    gathers, rank 0 writes), every rank starts afresh and resumes: each must draw what it would have drawn."""
    runner = fake_runner(rank, world_size=2)
    hook = ResumeStateHook()
    seed_all(10 + rank)
    hook.gather(runner)
    if rank == 0:
        checkpoint = {'meta': {}}
        hook.before_save_checkpoint(runner, checkpoint)
        torch.save(checkpoint, path)
    expected = draws()
    dist.barrier()
    seed_all(99)  # a new process seeded by mmengine alike on every rank
    resumed = ResumeStateHook()
    resumed.after_load_checkpoint(runner, safe_load(path))
    resumed.restore_random_state(runner)
    assert draws() == expected, f'rank {rank} did not get its own generators back'
    assert not runner.logger.lines, runner.logger.lines


def test_every_rank_restores_its_own_generators_and_another_world_size_is_noted(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    run_ranks(_save_then_resume_on_each_rank, path)
    checkpoint = safe_load(path)
    assert checkpoint['random_state']['world_size'] == 2 and len(checkpoint['random_state']['ranks']) == 2
    assert checkpoint['meta']['world_size'] == 2 and checkpoint['meta']['total_batch'] == 4

    runner = fake_runner(rank=2, world_size=3)  # resumed on three processes: rank 2 takes rank 0's state
    seed_all(10)
    expected = draws()
    hook = ResumeStateHook()
    hook.after_load_checkpoint(runner, checkpoint)
    hook.restore_random_state(runner)
    assert draws() == expected
    assert any('holds the generators of 2 rank(s) and this run has 3: rank 2 restored those of rank 0' in line
               for line in runner.logger.lines), runner.logger.lines


def _advance(generators):
    for i, generator in enumerate(generators):
        torch.rand(10 * (i + 1), generator=generator)


def test_a_checkpoint_of_eight_gpus_resumes_on_a_machine_with_two(monkeypatch):
    saved = []
    for rank in range(8):  # eight ranks, each on its own GPU, each capturing its state
        _advance(fake_gpus(monkeypatch, 8, current=rank))
        saved.append(capture_random_state())
    assert not torch.equal(saved[0]['cuda'], saved[1]['cuda'])
    generators = fake_gpus(monkeypatch, 2, current=1)  # rank 1 of two, on GPU 1
    untouched = generators[0].get_state()
    runner = fake_runner(rank=1, world_size=2)
    hook = ResumeStateHook()
    hook.after_load_checkpoint(runner, {'random_state': dict(world_size=8, ranks=saved), 'meta': {}})
    hook.restore_random_state(runner)
    assert torch.equal(generators[1].get_state(), saved[1]['cuda'])
    assert torch.equal(generators[0].get_state(), untouched)  # another rank's GPU is not this rank's business
    assert any('8 rank(s) and this run has 2' in line for line in runner.logger.lines)


def test_an_older_checkpoint_with_all_of_rank_0s_gpus_resumes_on_fewer(monkeypatch):
    """Checkpoints of earlier segkit versions hold torch.cuda.get_rng_state_all() of rank 0's machine; restoring
    that whole list on a machine with fewer GPUs raised IndexError after the whole sampler replay."""
    _advance(fake_gpus(monkeypatch, 8))
    old = capture_random_state()
    old['cuda'] = torch.cuda.get_rng_state_all()
    generators = fake_gpus(monkeypatch, 2, current=1)
    runner = fake_runner(rank=1, world_size=2)
    hook = ResumeStateHook()
    hook.after_load_checkpoint(runner, {'random_state': old, 'meta': {}})
    hook.restore_random_state(runner)
    assert torch.equal(generators[1].get_state(), old['cuda'][1])


def _optimizer_and_poly(lr=0.01):
    model = torch.nn.Linear(2, 2)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    return wrapper, [PolyLR(wrapper.optimizer, eta_min=0, power=1.0, begin=0, end=10, by_epoch=False)]


def test_another_total_batch_keeps_the_learning_rate_without_auto_scale_lr_and_says_so():
    wrapper, schedulers = _optimizer_and_poly()
    runner = fake_runner(world_size=1, batch_size=4, optim_wrapper=wrapper, schedulers=schedulers)
    hook = ResumeStateHook()
    hook.after_load_checkpoint(runner, {'meta': dict(world_size=8, total_batch=32)})
    hook.check_total_batch(runner)
    assert wrapper.optimizer.param_groups[0]['lr'] == 0.01
    assert any('trained with 8 process(es), total batch 32 on 1 process(es), total batch 4' in line
               and '--auto-scale-lr' in line for line in runner.logger.lines), runner.logger.lines

    runner.auto_scale_lr = dict(enable=True, base_batch_size=32)
    hook.check_total_batch(runner)
    assert wrapper.optimizer.param_groups[0]['lr'] == wrapper.optimizer.param_groups[0]['initial_lr'] == 0.01 / 8
    assert schedulers[0].base_values == [0.01 / 8]


def test_resuming_with_auto_scale_lr_on_another_total_batch_scales_the_resumed_learning_rate(tmp_path):
    work = tmp_path / 'work'
    train_tool.main([write_config(tmp_path, iters=2), '--work-dir', str(work)])
    saved = safe_load(str(work / 'iter_2.pth'))
    assert (saved['meta']['world_size'], saved['meta']['total_batch']) == (1, 2)
    lr = saved['optimizer']['param_groups'][0]['initial_lr']
    saved['meta'].update(world_size=2, total_batch=4)  # as if two processes had trained it
    with safe_checkpoint_io():  # HistoryBuffer pickled so that it reloads with weights_only
        torch.save(saved, work / 'iter_2.pth')
    train_tool.main([write_config(tmp_path, iters=4), '--work-dir', str(work), '--resume', '--auto-scale-lr'])
    resumed = safe_load(str(work / 'iter_4.pth'))
    assert resumed['optimizer']['param_groups'][0]['initial_lr'] == lr / 2
    resumed_log = sorted(work.glob('*/*.log'))[-1].read_text()
    assert 'trained with 2 process(es), total batch 4 on 1 process(es), total batch 2' in resumed_log
    assert 'scales the resumed learning rates by 2/4' in resumed_log


@pytest.mark.cuda
def test_the_real_cuda_generator_of_this_process_gpu_round_trips():
    torch.cuda.manual_seed(3)
    torch.rand(1, device='cuda')  # CUDA initialised, as in training
    state = capture_random_state()
    expected = torch.rand(4, device='cuda')
    torch.cuda.manual_seed(99)
    assert restore_random_state(state) == []
    assert torch.equal(torch.rand(4, device='cuda'), expected)
