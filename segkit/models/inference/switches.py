"""What the inference entry points (``tools/test.py``, ``tools/inference.py``, the web demo, ``init_model``) turn on
in a config before the model is built: the fast exact defaults, ``--tta`` and ``--crf``. Each writes
``model.test_cfg`` / ``model.channels_last`` keys, so :class:`~.options.InferenceOptions` validates the result
like any hand-written config.
"""
import inspect
from typing import Mapping, Optional, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from segkit.registry import SEGMENTORS


def _test_cfg(cfg: Config) -> ConfigDict:
    if cfg.model.get('test_cfg') is None:
        cfg.model['test_cfg'] = ConfigDict(mode='whole')
    return cfg.model['test_cfg']


def enable_fast_defaults(cfg: Config) -> None:
    """BN folded into the convolutions and the channels-last layout, unless the config says otherwise.

    Both are exact (float32, the same labels; only rounding differs), so the tools that only run inference use
    them by default; ``--no-fast`` / ``init_model(fast=False)`` skip this. Approximate options (bf16, int8) stay
    opt-in.
    """
    segmentor = SEGMENTORS.get(cfg.model.get('type', 'EncoderDecoder'))
    if 'channels_last' not in inspect.signature(segmentor).parameters:
        return  # a segmentor of the user's own that does not run on InferenceOptions
    test_cfg = _test_cfg(cfg)
    turned_on = []
    if test_cfg.get('fuse_bn') is None:
        test_cfg['fuse_bn'] = True
        turned_on.append('model.test_cfg.fuse_bn=True')
    if cfg.model.get('channels_last') is None:
        cfg.model['channels_last'] = True
        turned_on.append('model.channels_last=True')
    if turned_on:
        print_log(f'inference: {", ".join(turned_on)} (exact: same labels, float32; --no-fast turns it off)',
                  logger='current')


def tta_from_config(cfg: Config, config_path: str = 'the config') -> Tuple[Tuple[float, ...], bool]:
    """The (scales, flip) of a config's multi-scale + flip testing.

    ``tta_scales = [...]`` (segkit's form, flips included) or an MMSegmentation ``tta_pipeline`` whose
    ``TestTimeAug`` resizes by ``scale_factor`` and flips horizontally: both run as in-model TTA
    (:mod:`.multi_scale`), the one implementation.
    """
    if cfg.get('tta_scales'):
        return tuple(float(s) for s in cfg.tta_scales), True
    for step in cfg.get('tta_pipeline') or []:
        if step.get('type', '').split('.')[-1] == 'TestTimeAug':
            return _scales_of_test_time_aug(step['transforms'], config_path)
    raise KeyError(f'{config_path} has no tta_scales for multi-scale + flip testing: add e.g. '
                   "tta_scales = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75] (see configs/_base_/datasets/ms_flip_tta.py)")


def _scales_of_test_time_aug(groups, config_path: str) -> Tuple[Tuple[float, ...], bool]:
    scales, flips = [], set()
    for group in groups:
        for step in group:
            kind = step.get('type', '').split('.')[-1]
            if kind == 'Resize':
                if step.get('scale_factor') is None:
                    raise ValueError(f'{config_path}: tta_pipeline Resize(scale={step.get("scale")}) resizes to a '
                                     'fixed size; in-model TTA takes scale factors: set tta_scales=[...] instead')
                scales.append(float(step['scale_factor']))
            elif kind == 'RandomFlip':
                if step.get('direction', 'horizontal') != 'horizontal' or step.get('prob') not in (0, 0.0, 1, 1.0):
                    raise ValueError(f'{config_path}: tta_pipeline RandomFlip({dict(step)}) is not a horizontal '
                                     'mirror view; in-model TTA mirrors horizontally (flip=True) or not at all')
                flips.add(float(step['prob']))
    return tuple(scales) or (1.0, ), 1.0 in flips


def enable_tta(cfg: Config, config_path: str = 'the config') -> None:
    """``--tta`` / ``init_model(tta=True)``: ``model.test_cfg.tta`` at the config's scales, with flips."""
    scales, flip = tta_from_config(cfg, config_path)
    _test_cfg(cfg)['tta'] = ConfigDict(scales=list(scales), flip=flip)


def enable_crf(cfg: Config, crf: Optional[Mapping] = None) -> None:
    """``--crf``: the DenseCRF with the DeepLab defaults, tuned by any ``model.test_cfg.crf`` keys already set."""
    test_cfg = _test_cfg(cfg)
    merged = ConfigDict(type='DenseCRF')
    merged.update(test_cfg.get('crf') or {})
    merged.update(crf or {})
    test_cfg['crf'] = merged


TTA_PIPELINE_REMOVED = ('the TestTimeAug pipeline route of test-time augmentation was removed: --tta '
                        "(init_model(tta=True)) runs the same multi-scale + flip inside the model, at the config's "
                        'tta_scales or the scales of its tta_pipeline')
