"""Two CPU processes (gloo) train through tools/dist_train.sh -> torchrun -> tools/train.py --launcher pytorch."""
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch

from tests.test_train_tools import write_config

REPO = Path(__file__).resolve().parents[1]

RANK_DUMP_HOOK = '''
import os
import re
import torch
from mmengine.hooks import Hook
from segkit.registry import HOOKS

@HOOKS.register_module()
class DumpRankWeights(Hook):
    """Saves this rank's parameters before and after training."""
    def _dump(self, runner, tag):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        state = {k: v.detach().clone() for k, v in model.named_parameters()}
        torch.save(dict(state=state, world_size=runner.world_size, iter=runner.iter),
                   os.path.join(runner.work_dir, f'{tag}_rank{runner.rank}.pt'))
    def before_train(self, runner):
        self._dump(runner, 'before')
    def after_train(self, runner):
        self._dump(runner, 'after')
'''


@pytest.mark.slow
def test_two_process_training_and_evaluation(tmp_path, monkeypatch):
    (tmp_path / 'rank_dump.py').write_text(textwrap.dedent(RANK_DUMP_HOOK))
    cfg = write_config(tmp_path, iters=3, extra="custom_imports = dict(imports=['rank_dump'])\n"
                                                "custom_hooks = [dict(type='DumpRankWeights')]",
                       norm='SyncBN')
    work = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=f'{tmp_path}{os.pathsep}{REPO}', OMP_NUM_THREADS='1',
               PORT=str(29500 + os.getpid() % 1000))
    proc = subprocess.run(['bash', str(REPO / 'tools/dist_train.sh'), cfg, '2', '--work-dir', str(work)],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    before = [torch.load(work / f'before_rank{r}.pt', weights_only=True) for r in (0, 1)]
    after = [torch.load(work / f'after_rank{r}.pt', weights_only=True) for r in (0, 1)]
    assert after[0]['world_size'] == 2 and after[0]['iter'] == after[1]['iter'] == 3
    for name, value in after[0]['state'].items():
        assert torch.equal(value, after[1]['state'][name]), name
    changed = sum(not torch.equal(after[0]['state'][k], before[0]['state'][k]) for k in before[0]['state'])
    assert changed > len(before[0]['state']) // 2  # it really trained
    assert (work / 'iter_2.pth').exists()  # rank 0 saved the checkpoint

    # distributed evaluation (each rank sees half of the images) equals single-process evaluation
    proc = subprocess.run(['bash', str(REPO / 'tools/dist_test.sh'), cfg, str(work / 'iter_2.pth'), '2',
                           '--work-dir', str(tmp_path / 'dist_eval')],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    dist_miou = float(re.findall(r'mIoU: ([0-9.]+)', proc.stdout + proc.stderr)[-1])
    monkeypatch.syspath_prepend(str(tmp_path))  # the config's custom_imports
    monkeypatch.syspath_prepend(str(REPO / 'tools'))
    import test as test_tool
    single = test_tool.main([cfg, str(work / 'iter_2.pth'), '--work-dir', str(tmp_path / 'single_eval')])
    assert abs(single['mIoU'] - dist_miou) < 1e-3
