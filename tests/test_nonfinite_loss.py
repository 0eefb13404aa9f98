"""A NaN/inf loss is caught before it reaches the weights: skipped (counted, logged) or the run stops naming the
iteration and the last good checkpoint (train_cfg.nonfinite_loss)."""
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from segkit.fileio.checkpoint import safe_load
from segkit.engine.hooks import NonFiniteLossError
from tests.test_train_tools import write_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))
import train as train_tool  # noqa: E402

POISON = '''
import torch
from mmengine.hooks import Hook
from segkit.registry import HOOKS

@HOOKS.register_module()
class PoisonLoss(Hook):
    """Makes the summed loss NaN at the given (1-based) iterations; records the weights before each iteration."""
    priority = 'VERY_LOW'

    def __init__(self, iterations):
        self.iterations, self.weights = set(iterations), {}
        type(self).last = self

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = getattr(runner.model, 'module', runner.model)
        self.weights[runner.iter + 1] = [p.detach().clone() for p in model.parameters()]
        vars(model).pop('parse_losses', None)
        if runner.iter + 1 in self.iterations:
            parse = type(model).parse_losses.__get__(model)

            def poisoned(losses):
                loss, log_vars = parse(losses)
                return loss * float('nan'), log_vars
            model.parse_losses = poisoned
'''


def run(tmp_path, action, iterations):
    (tmp_path / 'poison_hook.py').write_text(textwrap.dedent(POISON))
    sys.path.insert(0, str(tmp_path))
    cfg = write_config(tmp_path, iters=5, extra=(
        "custom_imports = dict(imports=['poison_hook'])\n"
        f"custom_hooks = [dict(type='PoisonLoss', iterations={list(iterations)})]\n"
        f"train_cfg = dict(max_iters=5, val_interval=5, nonfinite_loss={action!r})"))
    work = tmp_path / 'work'
    try:
        train_tool.main([cfg, '--work-dir', str(work)])
    finally:
        sys.path.remove(str(tmp_path))
    return work


def test_skip_counts_logs_and_leaves_the_weights_alone(tmp_path):
    work = run(tmp_path, 'skip', [2, 3])
    final = safe_load(str(work / 'iter_4.pth'))
    assert final['message_hub']['runtime_info']['nonfinite_loss_skipped'] == 2
    log = next(work.glob('*/*.log')).read_text()
    assert 'iteration 2: the loss is nan; step skipped (1 skipped so far)' in log
    assert 'iteration 3: the loss is nan; step skipped (2 skipped so far)' in log
    assert '2 training steps were skipped because their loss was not finite' in log
    hook = sys.modules['poison_hook'].PoisonLoss.last
    unchanged = [torch.equal(a, b) for a, b in zip(hook.weights[2], hook.weights[4])]
    assert all(unchanged)  # iterations 2 and 3 did not step
    assert not all(torch.equal(a, b) for a, b in zip(hook.weights[4], hook.weights[5]))  # iteration 4 did
    assert final['param_schedulers'][0]['last_step'] == 4  # the schedule moved on through the skipped steps


def test_stop_names_the_iteration_and_the_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError) as err:
        run(tmp_path, 'stop', [3])
    message = str(err.value)
    assert message.startswith('iteration 3: the loss is nan') and str(tmp_path / 'work' / 'iter_2.pth') in message
    assert "train_cfg.nonfinite_loss='skip'" in message
    assert safe_load(str(tmp_path / 'work' / 'iter_2.pth'))['meta']['iter'] == 2
    assert not (tmp_path / 'work' / 'iter_4.pth').exists()


def test_unknown_action_is_named():
    from segkit.engine.hooks import NonFiniteLossHook
    with pytest.raises(ValueError, match="train_cfg.nonfinite_loss.*'ignore'"):
        NonFiniteLossHook(action='ignore')
