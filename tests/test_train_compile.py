"""Compiled training (train_cfg.compile): the same losses and gradients as eager on a fixed batch, no graph
breaks in the training forward, the switch validated, and a warning (once) with eager training when
torch.compile is unavailable or fails."""
import copy
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper

from segkit.engine.compile import MAX_SHAPES, TrainCompileError, compile_training, resolve_compile
from segkit.engine.optim_wrapper import AutocastOptimWrapper
from segkit.models.heads.decode_head import stack_labels
from segkit.models.segmentors.encoder_decoder import COMPILED_TRAIN_LOSSES
from segkit.registry import SEGMENTORS
from tests.helpers import fake_batch, tiny_deeplabv3plus


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _model(seed=0, ignore_all=False):
    cfg = tiny_deeplabv3plus()
    cfg['decode_head']['dropout_ratio'] = 0  # no random masks: compiled and eager draw them differently
    cfg['auxiliary_head']['dropout_ratio'] = 0
    torch.manual_seed(seed)
    return SEGMENTORS.build(cfg).train()


def _batch(size=32):
    return fake_batch(size=(size, size))


def _losses_and_grads(model, batch, wrapper):
    """One training forward + backward as train_step runs it (under the wrapper's autocast): losses, gradients."""
    model.zero_grad()
    with wrapper.optim_context(model):
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
    return {k: float(v.detach()) for k, v in log_vars.items()}, grads


def _wrapper(model, bf16):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    if bf16:
        return AutocastOptimWrapper(optimizer=optimizer, dtype='bfloat16', device_type='cpu')
    return OptimWrapper(optimizer=optimizer)


# ------------------------------------------------------------------------------------------------ the switch
def test_switch_is_validated_once_with_the_closest_key():
    assert resolve_compile(None) is None and resolve_compile(False) is None
    assert resolve_compile(True) == dict(dynamic=False)
    assert resolve_compile(dict(mode='max-autotune', dynamic=None)) == dict(mode='max-autotune', dynamic=None)
    with pytest.raises(TrainCompileError, match=r"unknown key 'dynamics'; did you mean 'dynamic'\?"):
        resolve_compile(dict(dynamics=False))
    with pytest.raises(TrainCompileError, match="unknown key 'full_graph'; did you mean 'fullgraph'"):
        resolve_compile(dict(full_graph=True))
    with pytest.raises(TrainCompileError, match='must be True, False or a dict'):
        resolve_compile('inductor')
    with pytest.raises(TrainCompileError, match='dynamic must be'):
        resolve_compile(dict(dynamic='yes'))


def test_training_forward_has_no_graph_breaks():
    model = _model()
    data = model.data_preprocessor(_batch(), True)
    explained = torch._dynamo.explain(model.train_losses)(data['inputs'], stack_labels(data['data_samples']))
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1


@pytest.mark.parametrize('min_kept,ignored', [(100, 0.1), (50, 0.0), (10 ** 6, 0.2), (0, 0.1), (100, 1.0)])
def test_ohem_traceable_path_keeps_the_same_pixels(min_kept, ignored):
    from segkit.models.samplers.ohem_pixel_sampler import OHEMPixelSampler
    g = torch.Generator().manual_seed(min_kept)
    prob = torch.rand(2, 32, 32, generator=g)
    prob[0, :4] = 0.25  # ties
    valid = torch.rand(2, 32, 32, generator=g) >= ignored
    sampler = OHEMPixelSampler(thresh=None, min_kept=min_kept)
    assert torch.equal(sampler._hardest_traceable(prob, valid, 2), sampler._hardest(prob, valid, 2))


def test_ohem_head_trains_without_graph_breaks():
    cfg = tiny_deeplabv3plus(aux=False)
    cfg['decode_head']['sampler'] = dict(type='OHEMPixelSampler', thresh=0.7, min_kept=200)
    model = SEGMENTORS.build(cfg).train()
    data = model.data_preprocessor(_batch(), True)
    explained = torch._dynamo.explain(model.train_losses)(data['inputs'], stack_labels(data['data_samples']))
    assert explained.graph_break_count == 0, explained.break_reasons


def test_all_ignored_batch_gives_zero_losses_and_accuracy_without_syncs():
    model = _model()
    batch = _batch()
    for sample in batch['data_samples']:
        sample.gt_sem_seg.data.fill_(255)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert all(float(v.detach()) == 0.0 for v in losses.values()), losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is not None for p in model.decode_head.classifier.parameters())  # DDP sees every parameter


# ---------------------------------------------------------------------------------- compiled against eager
def _counting_backend():
    calls = []

    def backend(gm, example_inputs):
        calls.append(gm)
        return gm.forward
    return backend, calls


def test_compiled_step_runs_the_captured_graph_and_recompiles_only_for_new_shapes():
    """A cheap backend (dynamo's graph, run as it is): the wiring, one compile per shape, eager after MAX_SHAPES."""
    backend, calls = _counting_backend()
    model, plain = _model(), _model()
    compiled = compile_training(model, resolve_compile(dict(backend=backend)))
    assert model.__dict__[COMPILED_TRAIN_LOSSES] is compiled
    for _ in range(2):
        got, grads = _losses_and_grads(model, _batch(), _wrapper(model, False))
    want, want_grads = _losses_and_grads(plain, _batch(), _wrapper(plain, False))
    assert len(calls) == 1 and compiled.fallback is None and compiled.graph_breaks == 0
    assert got == pytest.approx(want, rel=1e-5)
    assert copy.deepcopy(model).__dict__.get(COMPILED_TRAIN_LOSSES) is None  # an EMA copy runs eagerly
    _losses_and_grads(model, _batch(40), _wrapper(model, False))
    assert len(calls) == 2
    compiled.shapes.update({((i, ), ()) for i in range(MAX_SHAPES)})
    _losses_and_grads(model, _batch(48), _wrapper(model, False))
    assert compiled.fallback is not None and 'input shapes' in compiled.fallback and len(calls) == 2


def _relative_error(grads, reference):
    """|g - g_ref| / |g_ref| over all parameters' gradients together."""
    diff = torch.cat([(grads[k].double() - reference[k].double()).flatten() for k in reference])
    return float(diff.norm() / torch.cat([g.double().flatten() for g in reference.values()]).norm())


@pytest.mark.slow
def test_inductor_step_matches_eager_fp32():
    """float32: the compiled step's losses, gradients and BN statistics are eager's to float rounding."""
    model, plain = _model(), _model()
    compiled = compile_training(model, resolve_compile(True))
    got, grads = _losses_and_grads(model, _batch(), _wrapper(model, False))
    if compiled.fallback is not None:
        pytest.skip(f'torch.compile is not usable here: {compiled.fallback}')
    want, want_grads = _losses_and_grads(plain, _batch(), _wrapper(plain, False))
    assert compiled.graph_breaks == 0
    assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
    assert grads.keys() == want_grads.keys()
    assert _relative_error(grads, want_grads) < 1e-4
    for mine, theirs in zip(model.buffers(), plain.buffers()):  # BN running statistics updated the same way
        torch.testing.assert_close(mine.float(), theirs.float(), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_inductor_step_under_bf16_autocast_is_within_bf16_noise():
    """bfloat16 autocast: compiled and eager round at different places, so both are held against float32; the
    compiled step may be no further from it than twice the eager bf16 step (plus a little)."""
    model, plain, reference = _model(), _model(), _model()
    compiled = compile_training(model, resolve_compile(True))
    got, grads = _losses_and_grads(model, _batch(), _wrapper(model, True))
    if compiled.fallback is not None:
        pytest.skip(f'torch.compile is not usable here: {compiled.fallback}')
    eager, eager_grads = _losses_and_grads(plain, _batch(), _wrapper(plain, True))
    fp32, fp32_grads = _losses_and_grads(reference, _batch(), _wrapper(reference, False))
    assert compiled.graph_breaks == 0
    for key in fp32:
        assert abs(got[key] - fp32[key]) <= 2 * abs(eager[key] - fp32[key]) + 2e-2 * abs(fp32[key]) + 1e-3, key
    errors = _relative_error(grads, fp32_grads), _relative_error(eager_grads, fp32_grads)
    assert errors[0] <= 2 * errors[1] + 0.02, errors


# --------------------------------------------------------------------------------------------- fallbacks
class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged():
    handler = _Collect()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_unavailable_compile_warns_once_and_trains_eagerly(monkeypatch, warnings_logged):
    def no_compile(*args, **kwargs):
        raise RuntimeError('Dynamo is not supported on this Python')
    monkeypatch.setattr(torch, 'compile', no_compile)
    model, plain = _model(), _model()
    compiled = compile_training(model, resolve_compile(True))
    for _ in range(2):
        got, _ = _losses_and_grads(model, _batch(), _wrapper(model, False))
    assert got == _losses_and_grads(plain, _batch(), _wrapper(plain, False))[0]
    assert 'unavailable' in compiled.fallback
    assert len([m for m in warnings_logged if 'train_cfg.compile' in m]) == 1
    assert 'training runs eagerly' in warnings_logged[-1] and 'Dynamo is not supported' in warnings_logged[-1]


def test_failing_compile_warns_once_and_trains_eagerly(monkeypatch, warnings_logged):
    from torch._dynamo.exc import BackendCompilerFailed

    def failing_backend(gm, example_inputs):
        raise BackendCompilerFailed(failing_backend, RuntimeError('no C++ compiler found'))
    model, plain = _model(), _model()
    compiled = compile_training(model, resolve_compile(dict(backend=failing_backend, fullgraph=True)))
    for _ in range(2):
        got, grads = _losses_and_grads(model, _batch(), _wrapper(model, False))
    want, want_grads = _losses_and_grads(plain, _batch(), _wrapper(plain, False))
    assert got == want and all(torch.equal(grads[k], want_grads[k]) for k in grads)
    assert 'compiling failed' in compiled.fallback
    assert len([m for m in warnings_logged if 'train_cfg.compile' in m]) == 1


def test_model_errors_are_not_taken_for_compile_failures():
    backend, _ = _counting_backend()
    model = _model()
    compile_training(model, resolve_compile(dict(backend=backend)))
    batch = _batch()
    batch['data_samples'][0].gt_sem_seg.data.fill_(7)  # a label outside the 3 classes
    with pytest.raises((IndexError, RuntimeError)) as info:
        _losses_and_grads(model, batch, _wrapper(model, False))
    assert 'train_cfg.compile' not in str(info.value)


# ------------------------------------------------------------------------------------------- in a training run
@pytest.mark.slow
def test_train_cfg_compile_trains_compiled_and_logs_the_compile_time_once(tmp_path):
    """tools/train.py with train_cfg.compile (dynamo's graphs run as captured: the wiring, not Inductor)."""
    import sys
    from pathlib import Path
    from tests.test_train_tools import write_config
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))
    import train as train_tool
    extra = "train_cfg = dict(max_iters=3, val_interval=3, compile=dict(backend='eager'))"
    cfg = write_config(tmp_path, iters=3, extra=extra)
    train_tool.main([cfg, '--work-dir', str(tmp_path / 'work')])
    log = next((tmp_path / 'work').rglob('*.log')).read_text()
    assert log.count('train_cfg.compile: compiling the training step took') == 1, log[-3000:]
    assert '0 graph breaks' in log
    bad = write_config(tmp_path, iters=3, extra="train_cfg = dict(max_iters=3, compile=dict(mod='max-autotune'))")
    with pytest.raises(TrainCompileError, match="unknown key 'mod'; did you mean 'mode'"):
        train_tool.main([bad, '--work-dir', str(tmp_path / 'bad')])
