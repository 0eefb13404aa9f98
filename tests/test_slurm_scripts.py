"""tools/slurm_train.sh and slurm_test.sh hand srun the same tools with --launcher slurm (srun faked here)."""
import os
import subprocess

import pytest

from tests.tools_support import REPO

FAKE_SRUN = '''#!/usr/bin/env bash
printf '%s\\n' "$@" > "$SRUN_LOG"
echo "PYTHONPATH=$PYTHONPATH" >> "$SRUN_LOG"
'''


def run_script(tmp_path, script, args, **env):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    log = tmp_path / 'srun.log'
    full_env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SRUN_LOG=str(log), **env)
    for key in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS'):
        if key not in env:
            full_env.pop(key, None)
    subprocess.run(['bash', str(REPO / 'tools' / script), *args], env=full_env, check=True, timeout=30)
    return log.read_text().splitlines()


def test_train_script_runs_train_py_with_slurm_launcher(tmp_path):
    args = run_script(tmp_path, 'slurm_train.sh', ['gpu', 'deeplab', 'configs/x.py', '--resume', '--amp'],
                      GPUS='16', SRUN_ARGS='--time=1:00:00 --qos=high')
    assert args[:7] == ['--partition=gpu', '--job-name=deeplab', '--gres=gpu:8', '--ntasks=16',
                        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert args[7:9] == ['--time=1:00:00', '--qos=high']  # SRUN_ARGS split into options
    assert args[9:-1] == ['python', '-u', str(REPO / 'tools' / 'train.py'), 'configs/x.py', '--resume', '--amp',
                          '--launcher', 'slurm']
    assert args[-1].startswith(f'PYTHONPATH={REPO}')


@pytest.mark.parametrize('gpus, per_node', [('2', '2'), ('8', '8')])
def test_test_script_passes_checkpoint_and_sizes_the_job(tmp_path, gpus, per_node):
    args = run_script(tmp_path, 'slurm_test.sh', ['part', 'eval', 'configs/x.py', 'iter_4.pth', '--tta'], GPUS=gpus,
                      CPUS_PER_TASK='3')
    assert f'--gres=gpu:{per_node}' in args and f'--ntasks={gpus}' in args and '--cpus-per-task=3' in args
    assert args[args.index('python'):-1] == ['python', '-u', str(REPO / 'tools' / 'test.py'), 'configs/x.py',
                                             'iter_4.pth', '--tta', '--launcher', 'slurm']
