"""The precision choice (segkit.engine.precision), device-aware in one place; CUDA is faked on CPU machines."""
import warnings
from pathlib import Path

import pytest
import torch
from mmengine.optim import AmpOptimWrapper

import segkit.engine.precision as precision
from segkit.config_errors import accepted_arguments
from segkit.engine.optim_wrapper import AutocastOptimWrapper
from segkit.engine.precision import resolve_precision

REPO = Path(__file__).resolve().parents[1]
CAMVID = str(REPO / 'configs/deeplabv3plus/mobilenetv2_256x256_camvid.py')
CPU_BF16 = dict(type='AutocastOptimWrapper', dtype='bfloat16', device_type='cpu',
                optimizer=dict(type='SGD', lr=0.01), clip_grad=None)


@pytest.fixture
def fake_cuda(monkeypatch):
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance()  # made before the fake: mmengine's logger asks CUDA for the device id
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(precision, 'cuda_supports_bfloat16', lambda: True)


def build_config(*argv):
    import sys
    sys.path.insert(0, str(REPO / 'tools'))
    import train as train_tool
    return train_tool.build_config(train_tool.parse_args(list(argv)))


def test_cpu_bf16_config_with_amp_on_cuda_becomes_a_valid_amp_wrapper(fake_cuda):
    wrapper = build_config(CAMVID, '--amp').optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.dtype == 'float16' and wrapper.loss_scale == 'dynamic'
    assert 'device_type' not in wrapper
    assert set(wrapper) - {'type', 'optimizer', 'clip_grad'} <= set(accepted_arguments(AmpOptimWrapper))


def test_cpu_bf16_config_without_amp_autocasts_on_the_gpu(fake_cuda):
    wrapper = build_config(CAMVID).optim_wrapper  # not float32 in silence
    assert (wrapper.type, wrapper.dtype, wrapper.device_type) == ('AutocastOptimWrapper', 'bfloat16', 'cuda')


def test_gpu_without_bf16_falls_back_to_float16_with_loss_scaling(fake_cuda, monkeypatch):
    monkeypatch.setattr(precision, 'cuda_supports_bfloat16', lambda: False)
    wrapper = resolve_precision(CPU_BF16, amp=False, device='cuda')
    assert (wrapper.type, wrapper.dtype, wrapper.loss_scale) == ('AmpOptimWrapper', 'float16', 'dynamic')
    assert 'device_type' not in wrapper


LEAF_CONFIGS = sorted(str(p) for p in (REPO / 'configs').glob('*/*.py') if p.parent.name != '_base_')


@pytest.mark.parametrize('config', LEAF_CONFIGS)
def test_every_shipped_config_with_amp_on_cuda_gets_amp_kwargs_only(fake_cuda, config):
    wrapper = build_config(config, '--amp').optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.dtype == 'float16'
    unknown = set(wrapper) - {'type', 'optimizer', 'clip_grad', 'paramwise_cfg', 'constructor'}
    assert unknown <= set(accepted_arguments(AmpOptimWrapper)), unknown


def test_cpu_choices():
    amp_cfg = dict(type='AmpOptimWrapper', loss_scale='dynamic', dtype='float16', optimizer=dict(type='SGD', lr=0.1))
    cpu_from_amp = resolve_precision(amp_cfg, amp=False, device='cpu')
    assert (cpu_from_amp.type, cpu_from_amp.dtype, cpu_from_amp.device_type) == ('AutocastOptimWrapper',
                                                                                 'bfloat16', 'cpu')
    assert 'loss_scale' not in cpu_from_amp
    plain = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    assert resolve_precision(plain, amp=False, device='cpu') == plain
    assert resolve_precision(plain, amp=True, device='cpu').type == 'AutocastOptimWrapper'
    assert resolve_precision(plain, amp=False, device='cuda') == plain
    assert resolve_precision(CPU_BF16, amp=False, device='cpu').device_type == 'cpu'
    fp32_override = dict(CPU_BF16, type='OptimWrapper')  # --cfg-options optim_wrapper.type=OptimWrapper
    assert resolve_precision(fp32_override, amp=False, device='cpu') == dict(
        type='OptimWrapper', optimizer=CPU_BF16['optimizer'], clip_grad=None)


def test_amp_wrapper_from_translation_builds(fake_cuda, monkeypatch):
    """mmengine itself accepts the translated config (its CUDA check faked; GradScaler disables itself)."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
    from mmengine.registry import OPTIM_WRAPPERS
    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)
    cfg = resolve_precision(CPU_BF16, amp=True, device='cuda')
    model = torch.nn.Linear(2, 2)
    cfg.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():  # GradScaler: CUDA is not really there
        warnings.simplefilter('ignore')
        wrapper = OPTIM_WRAPPERS.build(cfg)
    assert isinstance(wrapper, AmpOptimWrapper) and wrapper.cast_dtype == torch.float16
    with pytest.raises(TypeError, match='device_type'):  # what the untranslated config did
        OPTIM_WRAPPERS.build(dict(CPU_BF16, type='AmpOptimWrapper', optimizer=cfg.optimizer))


def test_autocast_wrapper_follows_the_model_device():
    model = torch.nn.Linear(4, 4)
    wrapper = AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        assert model(torch.ones(1, 4)).dtype == torch.bfloat16


GPUS = [((7, 0), 'AmpOptimWrapper'), ((7, 5), 'AmpOptimWrapper'), ((8, 0), 'AutocastOptimWrapper'),
        ((9, 0), 'AutocastOptimWrapper')]


@pytest.mark.parametrize('capability, trains_with', GPUS)
def test_bf16_only_on_gpus_that_run_it_natively_probed_on_the_local_rank_gpu(monkeypatch, capability, trains_with):
    """V100 (7.0) and T4 (7.5) emulate bfloat16 (torch.cuda.is_bf16_supported() says yes by default): they get the
    float16 fallback. The probe reads the local rank's GPU, never GPU 0 through current_device() before
    set_device (which would create a context there from every rank)."""
    asked = []

    def capability_of(device):
        asked.append(device)
        return capability

    def no_current_device():
        raise AssertionError('probed torch.cuda.current_device() before set_device: a context on GPU 0')

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: False)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 4)
    monkeypatch.setattr(torch.cuda, 'current_device', no_current_device)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda including_emulation=True: True)
    monkeypatch.setattr(torch.cuda, 'get_device_capability', capability_of)
    monkeypatch.setenv('LOCAL_RANK', '3')
    wrapper = resolve_precision(CPU_BF16, amp=False, device='cuda')
    assert wrapper.type == trains_with and wrapper.dtype == ('float16' if capability < (8, 0) else 'bfloat16')
    assert asked == [3]


@pytest.mark.cuda
def test_bf16_probe_on_this_gpu():
    major, _ = torch.cuda.get_device_capability(torch.cuda.current_device())
    assert precision.cuda_supports_bfloat16() == (major >= 8 or bool(torch.version.hip))
