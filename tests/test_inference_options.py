"""InferenceOptions: every shipped config's test_cfg goes through it, misspelt keys in each section are refused
with the config path and the closest key, every inference combination gives the labels of the plain model (the
import rule, models/ never importing engine/ or deployment/, is tests/test_layers.py's)."""
import copy
import itertools
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

from segkit.models.inference import InferenceOptionError, InferenceOptions
from segkit.models.inference.switches import enable_fast_defaults, tta_from_config
from tests.helpers import randomise_bn, tiny_deeplabv3plus

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_every_shipped_config_has_valid_inference_options(path):
    cfg = Config.fromfile(str(path))
    options = InferenceOptions.from_test_cfg(cfg.model.get('test_cfg'),
                                             num_classes=cfg.model.decode_head.num_classes,
                                             channels_last=cfg.model.get('channels_last', False))
    assert options.mode in ('whole', 'slide')
    scales, flip = tta_from_config(cfg, str(path))  # --tta works for every shipped config
    assert scales and flip
    with_tta = InferenceOptions.from_test_cfg(dict(cfg.model.get('test_cfg') or {}, tta=dict(scales=scales)))
    assert with_tta.tta.scales == scales and with_tta.mode == options.mode


@pytest.mark.parametrize('test_cfg, message', [
    (dict(fuse_nb=True), r"model\.test_cfg\.fuse_nb: unknown key\. Did you mean 'fuse_bn'"),
    (dict(mode='slide', crop_size=(8, 8), strides=(4, 4)), r"model\.test_cfg\.strides: .*'stride'"),
    (dict(autocat='bfloat16'), r"model\.test_cfg\.autocat: .*'autocast'"),
    (dict(backend=dict(type='openvino', precison='bf16')), r"model\.test_cfg\.backend\.precison: .*'precision'"),
    (dict(backend=dict(type='openvino', precision='int8', calibration=dict(image='x'))),
     r"model\.test_cfg\.backend\.calibration\.image: .*'images'"),
    (dict(tta=dict(scale=[1.0])), r"model\.test_cfg\.tta\.scale: .*'scales'"),
    (dict(tta=dict(scales=[1.0], flips=True)), r"model\.test_cfg\.tta\.flips: .*'flip'"),
    (dict(crf=dict(bi_ww=4)), r"model\.test_cfg\.crf: .*'bi_ww'.*'bi_w'"),
    (dict(channels_last=True), r'model\.test_cfg\.channels_last: .*model\.channels_last=True'),
], ids=lambda v: str(v)[:40])
def test_misspelt_keys_of_each_section_are_refused(test_cfg, message):
    with pytest.raises((ValueError, TypeError), match=message):
        InferenceOptions.from_test_cfg(test_cfg)
    with pytest.raises((ValueError, TypeError), match=message):  # the segmentor builds its options from it
        MODELS.build(dict(tiny_deeplabv3plus(aux=False), test_cfg=test_cfg))


@pytest.mark.parametrize('test_cfg, message', [
    (dict(mode='slide', crop_size=(8, 8)), 'needs crop_size=.* and stride=.*missing stride'),
    (dict(stride=(4, 4)), "stride is only used with mode='slide'"),
    (dict(mode='slide', crop_size=(0, 8), stride=(4, 4)), r'crop_size must be \(height, width\)'),
    (dict(autocast='fp16'), "autocast must be None, 'bfloat16' or 'float16'"),
    (dict(backend='openvino', compile=True), 'backend and model.test_cfg.compile exclude each other'),
    (dict(backend='onnxruntime', autocast='bfloat16'), 'exclude each other'),
    (dict(backend=dict(type='openvino', precision='int8')), 'needs calibration=dict'),
    (dict(backend=dict(type='openvino', calibration='random')), 'only used with precision=.int8.'),
    (dict(threshold=0.4), 'one-class sigmoid model'),
    (dict(threshold=1.5), 'probability between 0 and 1'),
    (dict(fuse_bn='yes'), 'fuse_bn must be True or False'),
    (dict(tta=dict(scales=[0.0])), 'tta.scales must be positive'),
], ids=lambda v: str(v)[:40])
def test_combinations_that_cannot_work_are_refused_in_one_place(test_cfg, message):
    with pytest.raises(InferenceOptionError, match=message):
        InferenceOptions.from_test_cfg(test_cfg, num_classes=3)


def test_a_misspelt_key_from_the_test_tool_command_line_is_an_error(tmp_path):
    """The new user's case: tools/test.py CONFIG CKPT --cfg-options model.test_cfg.fuse_nb=True used to run."""
    from tests.tools_support import write_tiny_checkpoint
    sys.path.insert(0, str(REPO / 'tools'))
    import test as test_tool
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="model.test_cfg.fuse_nb: unknown key. Did you mean 'fuse_bn'"):
        test_tool.main([str(config), str(checkpoint), '--work-dir', str(tmp_path / 'run'),
                        '--cfg-options', 'model.test_cfg.fuse_nb=True'])


def test_fast_defaults_are_exact_and_respect_the_config():
    cfg = Config(dict(model=dict(type='EncoderDecoder', test_cfg=dict(mode='whole'))))
    enable_fast_defaults(cfg)
    assert cfg.model.test_cfg.fuse_bn is True and cfg.model.channels_last is True
    kept = Config(dict(model=dict(type='EncoderDecoder', channels_last=False, test_cfg=dict(fuse_bn=False))))
    enable_fast_defaults(kept)
    assert kept.model.test_cfg.fuse_bn is False and kept.model.channels_last is False


def _model(**changes):
    cfg = copy.deepcopy(tiny_deeplabv3plus(aux=False))
    cfg['test_cfg'] = {k: v for k, v in changes.items() if k != 'channels_last'}
    cfg['channels_last'] = changes.get('channels_last', False)
    return MODELS.build(cfg).eval()


MODES = {'whole': dict(mode='whole'), 'slide': dict(mode='slide', crop_size=(24, 32), stride=(16, 16))}
EXTRAS = {'plain': {}, 'tta': dict(tta=dict(scales=(0.75, 1.0), flip=True)),
          'crf': dict(crf=dict(iterations=3)),
          'tta+crf': dict(tta=dict(scales=(1.0, 1.25), flip=True), crf=dict(iterations=3))}
SPEED = {'fuse_bn': dict(fuse_bn=True), 'channels_last': dict(channels_last=True),
         'fuse_bn+channels_last': dict(fuse_bn=True, channels_last=True)}


@pytest.mark.parametrize('mode, extra', list(itertools.product(MODES, EXTRAS)))
def test_every_exact_speed_combination_keeps_the_labels(mode, extra):
    """Each (mode x TTA x CRF) combination with the exact speed options gives the plain model's logits and labels."""
    torch.manual_seed(0)
    reference = randomise_bn(_model(**MODES[mode], **EXTRAS[extra]))
    images = torch.randint(0, 256, (2, 3, 37, 45), dtype=torch.uint8)
    data = reference.data_preprocessor(dict(inputs=list(images)), training=False)
    with torch.no_grad():
        expected = reference.predict(data['inputs'])
    for name, speed in SPEED.items():
        model = _model(**MODES[mode], **EXTRAS[extra], **speed)
        model.load_state_dict(reference.state_dict())
        with torch.no_grad():
            got = model.predict(data['inputs'])
        for e, g in zip(expected, got):
            assert torch.allclose(g.seg_logits.data, e.seg_logits.data, atol=1e-4), (mode, extra, name)
            logits = e.seg_logits.data.topk(2, dim=0).values
            decided = (logits[0] - logits[1]) > 1e-3  # pixels that are not near-ties
            assert torch.equal(g.pred_sem_seg.data[0][decided], e.pred_sem_seg.data[0][decided]), (mode, extra, name)


def test_one_class_logits_are_thresholded_and_round_trip():
    from segkit.models.inference.predictions import from_probabilities, labels_from_logits, to_probabilities
    logits = torch.tensor([[[-2.0, 0.1], [0.5, 3.0]]])  # 1 x 2 x 2: a sigmoid output
    assert labels_from_logits(logits).tolist() == [[[0, 1], [1, 1]]]
    assert labels_from_logits(logits, threshold=0.6).tolist() == [[[0, 0], [1, 1]]]
    assert torch.allclose(from_probabilities(to_probabilities(logits, dim=0), dim=0), logits, atol=1e-4)
    two = torch.randn(2, 3, 3)
    assert torch.equal(labels_from_logits(two), two.argmax(0, keepdim=True))
    assert torch.allclose(to_probabilities(from_probabilities(two.softmax(0), dim=0), dim=0), two.softmax(0))
