"""tools/analysis_tools/gpu_check.py: the dry run on the CPU (the CUDA checks skipped), its exit status, and the
real thing where a GPU is present."""
import json
import re
import subprocess
import sys

import pytest

from tests.tools_support import REPO

sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
import gpu_check  # noqa: E402

LINE = re.compile(r'^\[(PASS|FAIL|SKIP)\] (\S+)\s+(.*)$', re.M)


def run_gpu_check(work, *args, timeout=900):
    proc = subprocess.run([sys.executable, str(REPO / 'tools/analysis_tools/gpu_check.py'), '--work-dir', str(work),
                           *args], cwd=str(REPO), capture_output=True, text=True, timeout=timeout)
    return proc, {name: (status, text) for status, name, text in LINE.findall(proc.stdout)}


@pytest.mark.slow
def test_the_dry_run_passes_on_the_cpu_with_the_cuda_checks_skipped(tmp_path):
    proc, lines = run_gpu_check(tmp_path, '--dry-run')
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert set(lines) == set(gpu_check.CHECKS)
    assert lines['amp-fp16'] == ('SKIP', 'needs CUDA (dry run on the CPU)')
    assert lines['torchrun-nccl'][0] == 'SKIP'
    assert all(status == 'PASS' for name, (status, _) in lines.items() if name not in ('amp-fp16', 'torchrun-nccl'))
    assert 'bit for bit' in lines['resume'][1] and 'AutocastOptimWrapper, convs in bfloat16' in lines['bf16'][1]
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['dry_run'] and len(summary['results']) == len(gpu_check.CHECKS)
    assert re.search(r'gpu_check: 6 passed, 0 failed, 2 skipped', proc.stdout)


def test_a_failing_check_fails_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')  # restored after the test: main() hides CUDA for the dry run

    def broken(self):
        raise gpu_check.CheckFailed('the loss did not fall: 1.000 -> 1.100')

    monkeypatch.setattr(gpu_check.GpuCheck, 'check_bf16', broken)
    assert gpu_check.main(['--dry-run', '--only', 'bf16', 'amp-fp16', '--work-dir', str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert '[FAIL] bf16           the loss did not fall: 1.000 -> 1.100' in out
    assert '[SKIP] amp-fp16' in out and 'gpu_check: 0 passed, 1 failed, 1 skipped' in out


@pytest.mark.cuda
@pytest.mark.slow
def test_gpu_check_on_a_gpu(tmp_path):
    """The training, distributed, resume and precision checks on a real GPU (several minutes)."""
    proc, lines = run_gpu_check(tmp_path, '--only', 'amp-fp16', 'bf16', 'torchrun-nccl', 'two-ranks', 'resume',
                                timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert all(status == 'PASS' for status, _ in lines.values()), lines
