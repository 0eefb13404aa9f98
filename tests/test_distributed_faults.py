"""Distributed runs as users launch them, on one machine (gloo, loopback): two 'nodes' of one process each train to
the same weights as one node with two processes, and when one rank dies the other stops by itself, quickly, with
an error that says what happened."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import torch

from segkit.fileio.checkpoint import safe_load
from tests.test_train_tools import write_config

REPO = Path(__file__).resolve().parents[1]
FAULTY = '''
custom_imports = dict(imports=['tests.fault_plugin'], allow_failed_imports=False)
custom_hooks = [dict(type='FaultAndRecordHook')]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def launch(cfg, work, gpus, port, nnodes=1, node_rank=0, **env_extra):
    """tools/dist_train.sh CONFIG GPUS in its own session, output to a file; returns (Popen, log path)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', PORT=str(port), NNODES=str(nnodes),
               NODE_RANK=str(node_rank), MASTER_ADDR='127.0.0.1', **env_extra)
    log = Path(f'{work}.node{node_rank}.log')
    with open(log, 'w') as out:
        proc = subprocess.Popen(['bash', str(REPO / 'tools/dist_train.sh'), cfg, str(gpus), '--work-dir', str(work)],
                                env=env, cwd=str(Path(cfg).parent), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, log


def finish(proc, timeout=400):
    try:
        return proc.wait(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever the launcher left behind
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_two_nodes_of_one_process_train_like_one_node_of_two(tmp_path):
    cfg = write_config(tmp_path, iters=3)
    one_node, log = launch(cfg, tmp_path / 'one_node', 2, free_port())
    assert finish(one_node) == 0, log.read_text()[-3000:]
    port = free_port()
    nodes = [launch(cfg, tmp_path / 'two_nodes', 1, port, nnodes=2, node_rank=r) for r in (0, 1)]
    for proc, log in nodes:
        assert finish(proc) == 0, log.read_text()[-3000:]
    a = safe_load(str(tmp_path / 'one_node' / 'iter_3.pth'))
    b = safe_load(str(tmp_path / 'two_nodes' / 'iter_3.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 3
    assert all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])
    first = safe_load(str(tmp_path / 'one_node' / 'iter_2.pth'))['state_dict']
    assert sum(not torch.equal(first[k], a['state_dict'][k]) for k in first) > len(first) // 2  # it trained


@pytest.mark.slow
def test_when_one_rank_dies_the_other_stops_with_a_clear_error(tmp_path):
    cfg = write_config(tmp_path, iters=6, extra=FAULTY)
    port = free_port()
    fault = dict(SEGKIT_FAULT='backward@3', SEGKIT_FAULT_RANK='1')  # rank 1 killed inside its 3rd backward pass
    (node0, log0), (node1, log1) = [launch(cfg, tmp_path / 'work', 1, port, nnodes=2, node_rank=r, **fault)
                                    for r in (0, 1)]
    assert finish(node1) != 0
    died = time.monotonic()
    code = finish(node0, timeout=120)
    waited = time.monotonic() - died
    output = log0.read_text()
    print(f'\nrank 0 stopped {waited:.1f} s after rank 1 was killed')
    assert code != 0 and waited < 60, output[-3000:]
    assert 'RankLostError: rank 0 of 2: another rank stopped answering during iteration 3' in output, output[-3000:]
    assert 'relaunch every node with --resume to continue from' in output and 'iter_2.pth' in output
    assert 'Signal 9 (SIGKILL)' in log1.read_text()  # torchrun on the other node says which rank died and how
