"""tools/analysis_tools/precision_check.py (the accuracy side of the speed options) and benchmarks/benchmark_tta.py,
on a trained tiny model."""
import sys
from pathlib import Path

import pytest

from tests.test_train_tools import train_tool, write_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(REPO / 'benchmarks'))  # benchmark_tta
import precision_check  # noqa: E402


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('precision')
    config = write_config(tmp, iters=4)
    train_tool.main([config, '--work-dir', str(tmp / 'work')])
    return config, str(tmp / 'work' / 'iter_4.pth')


def test_reports_miou_agreement_and_per_class_rows(trained, capsys):
    config, checkpoint = trained
    precision_check.main([config, checkpoint, '--variants', 'fp32', 'fp32-fused', 'bf16', '--num-images', '3'])
    out = capsys.readouterr().out
    rows = {line.split('|')[1].strip(): line.split('|')[2:-1] for line in out.splitlines()
            if line.startswith('| fp32') or line.startswith('| bf16')}
    assert rows['fp32'][1].strip() == '+0.00' and rows['fp32'][2].strip() == '100.000 %'
    assert rows['fp32-fused'][0] == rows['fp32'][0]  # folding BN changes no prediction of this model
    assert float(rows['bf16'][2].strip(' %')) > 90
    assert '| background |' in out and '| cross |' in out  # the per-class table names the classes


def test_tta_benchmark_times_both_ways_and_counts_page_faults(trained, capsys):
    import benchmark_tta
    config, checkpoint = trained
    rows = benchmark_tta.main([config, checkpoint, '--num-images', '1'])
    assert [r['way'] for r in rows] == ['pipeline', 'in-model']
    for r in rows:
        assert 0 < r['forwards'] < r['seconds'] and r['faults'] >= 0
    assert '| in-model |' in capsys.readouterr().out
