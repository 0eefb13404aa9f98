"""Building a timm model as a feature extractor at an output stride (timm's ``features_only`` and
``output_stride``: dilation in place of the last strides, DeepLabv3 arXiv:1706.05587 Sec. 3.1).

timm dilates the CNN families of :data:`DILATED_FAMILIES` (a timm model module each, with a small model the
tests build); other models (vision transformers, Swin, DenseNet, VGG, HRNet, ...) take no ``output_stride``. At
32, or with no output stride set, nothing is passed: every timm model then runs as its classifier does
(undilated), and a network whose own deepest stride is not 32 (a ViT's 16) runs only at that stride.
"""
import difflib
import importlib
from typing import Any, Dict, Optional, Sequence

import torch
from torch import nn

#: timm model modules (families) whose models take ``output_stride`` 8 and 16, with one model of each; checked
#: by ``tests/test_timm_backbone.py`` (timm 1.0). Other families run at their own stride only.
DILATED_FAMILIES: Dict[str, str] = {
    'resnet': 'resnet18d',  # ResNet / ResNet-D / ResNeXt / SE- and ECA-ResNet / ResNet-RS / Wide ResNet
    'resnest': 'resnest14d',
    'res2net': 'res2net50d',
    'sknet': 'skresnet18',
    'resnetv2': 'resnetv2_18',
    'regnet': 'regnety_002',
    'efficientnet': 'efficientnet_b0',  # EfficientNet / V2, MixNet, MnasNet, TinyNet, FBNet-C, SPNASNet
    'mobilenetv3': 'mobilenetv3_small_050',  # MobileNetV3 / V4, LCNet, FBNetV3
    'hardcorenas': 'hardcorenas_a',
    'convnext': 'convnext_atto',  # ConvNeXt, ConvNeXt-V2
    'inception_next': 'inception_next_atto',
    'byobnet': 'gernet_s',  # GENet, RepVGG, the ResNet-like "bring your own blocks" nets
    'byoanet': 'halonet26t',
    'cspnet': 'cspresnet50',  # CSPResNet / CSPDarkNet / DarkNet
    'cspnext': 'cspnext_s',
    'nfnet': 'nf_resnet26',
    'rexnet': 'rexnet_100',
    'mobilevit': 'mobilevit_xxs',
    'xception_aligned': 'xception41',
}


def import_timm():
    try:
        return importlib.import_module('timm')
    except ImportError as exc:
        raise ImportError("TimmBackbone needs timm: pip install -e '.[hub]' (or pip install timm)") from exc


def family_of(model_name: str) -> str:
    """The timm module that defines ``model_name`` (``'convnext'`` for ``'convnext_tiny.fb_in1k'``)."""
    return import_timm().models.model_entrypoint(model_name).__module__.rsplit('.', 1)[-1]


def check_model_name(model_name: str) -> None:
    timm = import_timm()
    if not isinstance(model_name, str) or not timm.is_model(model_name):
        close = difflib.get_close_matches(str(model_name), timm.list_models(), n=3, cutoff=0.6)
        hint = f" Closest timm models: {', '.join(close)}." if close else ''
        raise ValueError(f'TimmBackbone: model_name={model_name!r} is not a timm model.{hint} timm.list_models('
                         f"'pattern*') lists them (timm {timm.__version__})")


def network_stages(model: nn.Module) -> list:
    """The reduction of every stage of a timm feature model, returned or not."""
    return [int(info['reduction']) for info in model.feature_info.info]


def network_stride(model: nn.Module) -> int:
    """The reduction of the deepest stage of a timm feature model (its output stride), returned or not."""
    return int(model.feature_info.info[-1]['reduction'])


def create_features(model_name: str, *, out_indices: Optional[Sequence[int]], in_channels: int,
                    output_stride: Optional[int], model_kwargs: Optional[dict] = None,
                    pretrained_cfg_overlay: Optional[dict] = None) -> nn.Module:
    """``timm.create_model(model_name, features_only=True, in_chans=..., out_indices=..., output_stride=...)``,
    weights loaded when ``pretrained_cfg_overlay`` says from where (``dict(state_dict=...)`` or ``{}`` for timm's
    own source, the Hugging Face cache). Refuses an output stride the network does not reach, naming the
    families that dilate."""
    check_model_name(model_name)
    kwargs: Dict[str, Any] = dict(model_kwargs or {})
    reserved = {'features_only', 'in_chans', 'out_indices', 'output_stride', 'pretrained', 'pretrained_cfg_overlay'}
    clash = sorted(reserved & set(kwargs))
    if clash:
        raise ValueError(f'TimmBackbone: model_kwargs may not set {clash}; use the TimmBackbone arguments '
                         '(in_channels, out_indices, model.output_stride, pretrained)')
    kwargs.update(features_only=True, in_chans=in_channels, pretrained=pretrained_cfg_overlay is not None)
    if pretrained_cfg_overlay:
        kwargs['pretrained_cfg_overlay'] = pretrained_cfg_overlay
    if out_indices is not None:
        if not out_indices or not all(isinstance(i, int) for i in out_indices):
            raise ValueError(f'TimmBackbone: out_indices={out_indices!r} must be a non-empty sequence of stage '
                             'indices (ints)')
        kwargs['out_indices'] = tuple(out_indices)
    user_keys = list(model_kwargs or {})
    try:
        return _at_output_stride(model_name, kwargs, user_keys, output_stride)
    except IndexError as exc:  # timm's way of saying an out_indices entry names no stage
        plain = {k: v for k, v in kwargs.items() if k not in ('out_indices', 'pretrained_cfg_overlay')}
        with torch.device('meta'):
            stages = network_stages(_create(model_name, dict(plain, pretrained=False), user_keys))
        raise ValueError(f"TimmBackbone: out_indices={tuple(out_indices or ())} for timm's {model_name!r}, which has "
                         f'{len(stages)} feature stages (reductions {stages}): use indices in '
                         f'[0, {len(stages) - 1}]') from exc


def _at_output_stride(model_name: str, kwargs: Dict[str, Any], user_keys, output_stride: Optional[int]) -> nn.Module:
    if output_stride in (None, 32):
        model = _create(model_name, kwargs, user_keys)
    else:
        try:
            model = _create(model_name, dict(kwargs, output_stride=output_stride), user_keys)
        except (TypeError, AssertionError, ValueError):  # the family takes no output_stride (or not this one)
            model = _create(model_name, kwargs, user_keys)  # raises what else is wrong
    reached = network_stride(model)
    if output_stride is not None and reached != output_stride:
        raise ValueError(unsupported_stride_message(model_name, output_stride, reached))
    return model


def _create(model_name: str, kwargs: Dict[str, Any], user_keys) -> nn.Module:
    timm = import_timm()
    try:
        return timm.create_model(model_name, **kwargs)
    except TypeError as exc:
        if 'output_stride' in kwargs and 'output_stride' in str(exc):
            raise
        raise TypeError(f"TimmBackbone: timm's {model_name!r} refused its arguments ({exc}). model_kwargs "
                        f'{sorted(user_keys)} go to timm.create_model as they are: check their names') from exc


def unsupported_stride_message(model_name: str, output_stride: int, reached: int) -> str:
    families = ', '.join(DILATED_FAMILIES)
    return (f"TimmBackbone: model.output_stride={output_stride}, but timm's {model_name!r} (family "
            f"'{family_of(model_name)}') reaches {reached}: timm cannot dilate it. timm's output_stride (8, 16) "
            f'works for the families {families}. Without model.output_stride (or at 32) any timm model runs '
            f'undilated, at its own stride ({reached} here): set model.output_stride={reached} or pick a model of '
            f'those families.')
