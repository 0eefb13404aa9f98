"""How the tools set up a distributed run before mmengine's Runner: the DDP wrapper (BN buffers broadcast on GPUs
too; none when only evaluating), the collective timeout, --launcher mpi under any MPI, and the ImageNet weights
downloaded once per machine."""
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from segkit.engine import launcher
from segkit.engine.config_setup import DIST_TIMEOUT_S, prepare_for_launcher
from tests.rank_support import free_port, run_ranks
from tests.test_train_tools import write_config
from tests.tools_support import write_tiny_checkpoint

REPO = Path(__file__).resolve().parents[1]
PLAIN_BN = str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py')


def test_plain_bn_training_on_several_gpus_broadcasts_rank_0s_bn_statistics(monkeypatch):
    """mmengine's default DDP wrapper has broadcast_buffers=False: with plain BN each GPU kept the running
    statistics of its own share of the data and rank 0 saved its own (the CPU path already broadcast them)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = prepare_for_launcher(Config.fromfile(PLAIN_BN), 'pytorch')
    assert cfg.model.backbone.norm_cfg.type == 'BN' and cfg.env_cfg.dist_cfg.backend == 'nccl'
    wrapper = cfg.model_wrapper_cfg
    assert wrapper.type == 'MMDistributedDataParallel' and wrapper.broadcast_buffers is True
    assert 'device_ids' not in wrapper  # mmengine adds [LOCAL_RANK] on GPUs
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cpu = prepare_for_launcher(Config.fromfile(PLAIN_BN), 'pytorch').model_wrapper_cfg
    assert cpu.broadcast_buffers is True and cpu.device_ids is None
    evaluation = prepare_for_launcher(Config.fromfile(PLAIN_BN), 'pytorch', training=False).model_wrapper_cfg
    assert evaluation.type == 'segkit.LocalModelWrapper'
    assert prepare_for_launcher(Config.fromfile(PLAIN_BN), 'none').get('model_wrapper_cfg') is None


def test_the_collective_timeout_is_set_by_default_and_checked():
    """Without one, NCCL ranks wait for a dead peer as long as torch's default; segkit sets 30 minutes."""
    cfg = prepare_for_launcher(Config.fromfile(PLAIN_BN), 'pytorch')
    assert cfg.env_cfg.dist_cfg.timeout == DIST_TIMEOUT_S == 1800
    cfg = Config.fromfile(PLAIN_BN)
    cfg.merge_from_dict({'env_cfg.dist_cfg.timeout': 300})
    assert prepare_for_launcher(cfg, 'pytorch').env_cfg.dist_cfg.timeout == 300
    for bad in ('30m', 0, -5, True):
        cfg.merge_from_dict({'env_cfg.dist_cfg.timeout': bad})
        with pytest.raises(ValueError, match=r'env_cfg.dist_cfg.timeout must be a number of seconds > 0.*'
                                             r'--cfg-options env_cfg.dist_cfg.timeout=1800'):
            prepare_for_launcher(cfg, 'pytorch')


@pytest.mark.parametrize('variables, expected', [
    (dict(OMPI_COMM_WORLD_LOCAL_RANK='1', OMPI_COMM_WORLD_RANK='5', OMPI_COMM_WORLD_SIZE='8'), (1, 5, 8)),
    (dict(MV2_COMM_WORLD_LOCAL_RANK='2', MV2_COMM_WORLD_RANK='6', MV2_COMM_WORLD_SIZE='8'), (2, 6, 8)),
    (dict(MPI_LOCALRANKID='3', PMI_RANK='7', PMI_SIZE='8'), (3, 7, 8))])
def test_mpi_rank_variables_of_each_implementation(variables, expected):
    assert launcher.mpi_environment(variables) == expected
    assert launcher.local_rank(variables) == expected[0]


def test_mpi_launcher_on_gpus_sets_local_rank_the_device_and_the_timeout(monkeypatch):
    """mmengine's DDP wrapper reads LOCAL_RANK, which MPI launchers do not set (KeyError on GPUs)."""
    for name in launcher.LOCAL_RANK_VARIABLES + ('RANK', 'WORLD_SIZE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '1')
    monkeypatch.setenv('OMPI_COMM_WORLD_RANK', '3')
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '4')
    monkeypatch.setenv('MASTER_ADDR', '10.0.0.1')
    calls = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'set_device', lambda device: calls.append(('set_device', device)))
    monkeypatch.setattr(dist, 'init_process_group', lambda **kwargs: calls.append(('init', kwargs)))
    monkeypatch.setattr('mmengine.utils.dl_utils.set_multi_processing', lambda **kwargs: None)
    launcher.init_distributed('mpi', dict(dist_cfg=dict(backend='nccl', timeout=1800)))
    assert (os.environ['LOCAL_RANK'], os.environ['RANK'], os.environ['WORLD_SIZE']) == ('1', '3', '4')
    assert calls == [('set_device', 1), ('init', dict(backend='nccl', timeout=datetime.timedelta(seconds=1800)))]
    monkeypatch.delenv('OMPI_COMM_WORLD_LOCAL_RANK')
    with pytest.raises(KeyError, match='--launcher mpi: no MPI rank variables.*OMPI_COMM_WORLD_LOCAL_RANK.*'
                                       'MV2_COMM_WORLD_LOCAL_RANK.*--launcher pytorch'):
        launcher.init_distributed('mpi', {})


@pytest.mark.slow
def test_tools_test_under_an_mpi_launcher_without_open_mpi_variables(tmp_path):
    """Two processes started as MVAPICH2 starts them (its MV2_* variables only): mmengine's MPI set-up reads
    OMPI_COMM_WORLD_LOCAL_RANK alone (KeyError); segkit's reads every MPI's rank variables."""
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    port = free_port()
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), MV2_COMM_WORLD_LOCAL_RANK=str(rank), MV2_COMM_WORLD_RANK=str(rank),
                   MV2_COMM_WORLD_SIZE='2')
        for name in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE'):
            env.pop(name, None)
        procs.append(subprocess.Popen([sys.executable, str(REPO / 'tools/test.py'), str(config), str(checkpoint),
                                       '--launcher', 'mpi', '--work-dir', str(tmp_path / 'mpi')], env=env,
                                      cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
    assert re.search(r'mIoU: [0-9.]+', outputs[0]), outputs[0][-2000:]


class Stop(Exception):
    """Raised instead of building the Runner: the test is about what happens before."""


def _train_until_the_runner(rank, cfg, record):
    sys.path.insert(0, str(REPO / 'tools'))
    import train as train_tool

    def check(cfg):
        start = time.monotonic()
        if rank == 0:
            time.sleep(1.5)  # downloading
        with open(record, 'a') as f:
            f.write(f'{rank} {start} {time.monotonic()} {int(dist.is_initialized())}\n')

    def no_runner(cfg):
        raise Stop

    train_tool.check_pretrained_reachable = check
    train_tool.Runner.from_cfg = no_runner
    with pytest.raises(Stop):
        train_tool.main([cfg, '--launcher', 'pytorch', '--work-dir', str(Path(record).parent / 'work')])


def test_imagenet_weights_are_fetched_by_local_rank_0_before_the_other_ranks_look(tmp_path):
    record = tmp_path / 'checks.txt'
    run_ranks(_train_until_the_runner, write_config(tmp_path), str(record))
    rows = {int(r): (float(start), float(end), int(group)) for r, start, end, group in
            (line.split() for line in record.read_text().splitlines())}
    assert rows[0][2] == rows[1][2] == 1  # the process group existed
    assert rows[1][0] >= rows[0][1], 'rank 1 checked (downloaded) while rank 0 was still downloading'
