"""tools/deployment/export.py: ONNX, TorchScript and OpenVINO files, static and dynamic, checked against PyTorch on a
real image; tools/test.py scoring an exported ONNX model with the same metrics as its checkpoint."""
import importlib.util
import sys

import cv2
import numpy as np
import pytest

from segkit.apis import init_model
from segkit.deployment import compare_with_pytorch, open_session
from tests.tools_support import REPO, real_image, write_tiny_checkpoint

sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'tools' / 'deployment'))
import export as export_tool  # noqa: E402
import test as test_tool  # noqa: E402


def needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{module} is not installed (pip install -e '.[deploy]')")


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('export')
    config, checkpoint = write_tiny_checkpoint(tmp)
    return dict(tmp=tmp, config=str(config), checkpoint=str(checkpoint), image=str(real_image(tmp)))


def export(tiny, fmt, *extra):
    return export_tool.main([tiny['config'], tiny['checkpoint'], '--format', fmt, '--out-dir', str(tiny['tmp']),
                             '--image', tiny['image'], *extra])


def assert_checked(records, shapes):
    assert [r['shape'] for r in records] == shapes
    for r in records:
        assert r['passed'] and r['max_abs_diff'] <= 1e-3 and r['label_agreement'] >= 0.999


@needs('onnxruntime')
@needs('onnxscript')
def test_onnx_dynamic_with_the_dynamo_exporter(tiny, capsys):
    records = export(tiny, 'onnx', '--dynamic', '--shape', '37', '53')  # not multiples of 8: padded inside
    h, w = cv2.imread(tiny['image']).shape[:2]
    assert_checked(records, [(1, 6, h, w), (2, 6, 37, 53)])  # own size, then a batch of two at --shape
    out = capsys.readouterr().out
    assert 'ONNX Runtime' in out and 'same label' in out and 'ok' in out
    backend = open_session(tiny['tmp'] / 'tiny_shapes_dynamic.onnx')
    assert backend.input_shape is None
    assert backend(np.zeros((3, 3, 24, 40), np.float32)).shape == (3, 6, 24, 40)


@needs('onnxruntime')
def test_onnx_static_and_tools_test_scores_it_like_the_checkpoint(tiny, capsys):
    records = export(tiny, 'onnx', '--shape', '32', '32', '--onnx-exporter', 'torchscript')
    assert_checked(records, [(1, 6, 32, 32)])
    onnx_file = tiny['tmp'] / 'tiny_shapes_32x32.onnx'
    assert open_session(onnx_file).input_shape == (32, 32)
    scores = {}
    for name, weights in [('pytorch', tiny['checkpoint']), ('onnx', str(onnx_file))]:
        scores[name] = test_tool.main([tiny['config'], weights, '--work-dir', str(tiny['tmp'] / f'test_{name}')])
    assert scores['onnx'] == pytest.approx(scores['pytorch'], abs=1e-6)  # 32 px data: no resizing on either side
    # An MMSegmentation-style config names its data preprocessor at the top level too (the CamVid configs do); the
    # Runner must not hand it to the exported model, whose graph normalises by itself.
    mmseg_style = tiny['tmp'] / 'tiny_top_level_preprocessor.py'
    mmseg_style.write_text(f"_base_ = [{tiny['config']!r}]\ndata_preprocessor = dict(type='SegDataPreProcessor')\n")
    assert test_tool.main([str(mmseg_style), str(onnx_file), '--work-dir', str(tiny['tmp'] / 'test_mmseg_style')]) \
        == pytest.approx(scores['onnx'], abs=1e-6)
    assert set(scores['onnx']) >= {'aAcc', 'mIoU', 'mAcc'}
    with pytest.raises(ValueError, match='--tta'):
        test_tool.main([tiny['config'], str(onnx_file), '--tta'])


def test_torchscript_static_and_dynamic(tiny):
    h, w = cv2.imread(tiny['image']).shape[:2]
    assert_checked(export(tiny, 'torchscript', '--shape', '32', '48'), [(1, 6, h, w), (2, 6, 32, 48)])
    assert_checked(export(tiny, 'torchscript', '--dynamic', '--shape', '29', '35'), [(1, 6, h, w), (2, 6, 29, 35)])


@needs('openvino')
def test_openvino_static_and_dynamic(tiny):
    static = export(tiny, 'openvino', '--shape', '32', '48', '--onnx-exporter', 'torchscript')
    assert_checked(static, [(1, 6, 32, 48)])
    assert (tiny['tmp'] / 'tiny_shapes_32x48.bin').is_file()
    h, w = cv2.imread(tiny['image']).shape[:2]
    dynamic = export(tiny, 'openvino', '--dynamic', '--shape', '27', '41', '--onnx-exporter', 'torchscript')
    assert_checked(dynamic, [(1, 6, h, w), (2, 6, 27, 41)])


def test_the_check_catches_a_wrong_export(tiny):
    """A file exported from other weights must fail the comparison: the check is not a rubber stamp."""
    export(tiny, 'torchscript', '--shape', '32', '32', '--no-check')
    other_config, other_checkpoint = write_tiny_checkpoint(tiny['tmp'] / 'other', seed=1)
    other = init_model(str(other_config), str(other_checkpoint))
    records = compare_with_pytorch(other, open_session(tiny['tmp'] / 'tiny_shapes_32x32.torchscript'),
                                   cv2.imread(tiny['image']))
    assert not records[0]['passed'] and records[0]['max_abs_diff'] > 1e-3


def test_unknown_files_and_formats_are_named(tiny, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.onnx'):
        open_session(tmp_path / 'missing.onnx')
    (tmp_path / 'model.trt').write_bytes(b'')
    with pytest.raises(ValueError, match='model.trt'):
        open_session(tmp_path / 'model.trt')
    with pytest.raises(SystemExit):
        export_tool.main([tiny['config'], tiny['checkpoint'], '--format', 'tensorrt'])


@pytest.mark.parametrize('shape', [('0', '0'), ('512', '-1'), ('512', 'x')])
def test_shape_must_be_two_positive_sizes(shape, capsys, tmp_path):
    """--shape 0 0 once died inside torch.export; now argparse refuses it, saying what --shape takes."""
    with pytest.raises(SystemExit) as exit_info:
        export_tool.parse_args([str(tmp_path / 'c.py'), str(tmp_path / 'c.pth'), '--format', 'onnx', '--shape', *shape])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert 'argument --shape' in err and 'not a positive number of pixels' in err and '--shape 512 512' in err
    assert export_tool.parse_args(['c.py', 'c.pth', '--format', 'onnx', '--shape', '37', '53']).shape == [37, 53]


@pytest.mark.slow
def test_dist_test_scores_an_exported_model_on_two_ranks(tiny):
    """tools/dist_test.sh with an exported file: the Runner wrapped the parameterless BackendSegmentor in DDP,
    which refuses it ("DistributedDataParallel is not needed when a module doesn't have any parameter that
    requires a gradient"); evaluation now runs without DDP and scores as one process does."""
    import os
    import re
    import subprocess

    from tests.rank_support import free_port
    export(tiny, 'torchscript', '--shape', '32', '32', '--no-check')
    exported = str(tiny['tmp'] / 'tiny_shapes_32x32.torchscript')
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', PORT=str(free_port()))
    proc = subprocess.run(['bash', str(REPO / 'tools/dist_test.sh'), tiny['config'], exported, '2', '--work-dir',
                           str(tiny['tmp'] / 'dist_exported')], env=env, cwd=str(tiny['tmp']), capture_output=True,
                          text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    single = test_tool.main([tiny['config'], exported, '--work-dir', str(tiny['tmp'] / 'single_exported')])
    assert float(re.findall(r'mIoU: ([0-9.]+)', output)[-1]) == pytest.approx(single['mIoU'], abs=1e-2)


def test_an_exported_onnx_model_runs_on_the_gpu_when_onnx_runtime_has_cuda(tiny, monkeypatch):
    """It was always scored on the CPU: BackendSegmentor's session got device='cpu' whatever the run's device.
    Now it gets this process's GPU, and ONNX Runtime's CUDA provider that GPU's id (not GPU 0 for every rank)."""
    onnxruntime = pytest.importorskip('onnxruntime')
    from mmengine.config import Config

    from segkit.deployment import use_exported_model
    from segkit.registry import MODELS
    created = []

    class FakeSession:
        def __init__(self, path, options, providers):
            created.append(providers)
            self.providers = [p if isinstance(p, str) else p[0] for p in providers]

        def get_inputs(self):
            class Input:
                name, shape = 'image', [1, 3, 32, 32]
            return [Input()]

        def get_providers(self):
            return self.providers

    monkeypatch.setattr(onnxruntime, 'get_available_providers',
                        lambda: ['CUDAExecutionProvider', 'CPUExecutionProvider'])
    monkeypatch.setattr(onnxruntime, 'InferenceSession', FakeSession)
    monkeypatch.setattr('torch.cuda.is_available', lambda: True)
    monkeypatch.setattr('torch.cuda.current_device', lambda: 1)  # rank 1's GPU, set by the launcher
    onnx_file = tiny['tmp'] / 'fake.onnx'
    onnx_file.write_bytes(b'')
    cfg = Config.fromfile(tiny['config'])
    assert use_exported_model(cfg, str(onnx_file))
    assert cfg.model_wrapper_cfg.type == 'segkit.LocalModelWrapper'
    model = MODELS.build(cfg.model)
    assert created == [[('CUDAExecutionProvider', {'device_id': 1}), 'CPUExecutionProvider']]
    assert model.session.device == 'cuda:1'

    monkeypatch.setattr(onnxruntime, 'get_available_providers', lambda: ['CPUExecutionProvider'])
    assert MODELS.build(cfg.model).session.device == 'cpu'  # onnxruntime without CUDA: the CPU, said in the log
    assert created[-1] == ['CPUExecutionProvider']
