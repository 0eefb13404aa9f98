"""What a backbone gives its heads: one :class:`FeatureSpec` (channels, reduction) per returned feature map.

A backbone that knows its outputs exposes ``feature_info`` (timm's idea: each returned stage reports its
reduction, the input size over its size, and its channels), computed at the output stride it was built for.
The segmentor then fills the head arguments a config leaves out or sets to None (:func:`with_feature_info`), so a
config names the backbone alone: ``in_channels`` and ``in_index`` (the deepest feature unless set) of every head
that takes them, and for the DeepLabv3+ decoder (arXiv:1802.02611, Sec. 3.1: "low-level features ... of output
stride 4") ``low_level_index`` (the feature at reduction 4) and ``low_level_in_channels``. Values a config gives win;
one that contradicts the backbone is an error naming both.
"""
import inspect
from typing import Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from segkit.config_errors import accepted_arguments

#: The reduction of the DeepLabv3+ decoder's low-level feature.
LOW_LEVEL_REDUCTION = 4


class FeatureSpec(NamedTuple):
    """One returned feature map: its channels and its reduction (input size / feature size)."""

    channels: int
    reduction: int


FeatureInfo = Tuple[FeatureSpec, ...]


def feature_info_of(module) -> Optional[FeatureInfo]:
    """``module.feature_info`` as a tuple of :class:`FeatureSpec`, or None when the module does not report it."""
    info = getattr(module, 'feature_info', None)
    return None if info is None else tuple(FeatureSpec(*spec) for spec in info)


def describe(info: FeatureInfo) -> str:
    """``'0: 96 ch @ /4, 1: 192 ch @ /8, ...'``, for messages."""
    return ', '.join(f'{i}: {spec.channels} ch @ /{spec.reduction}' for i, spec in enumerate(info))


def _parameter(cls, name: str) -> Optional[inspect.Parameter]:
    """The ``__init__`` parameter ``name`` of ``cls`` or, through ``**kwargs``, of a base class."""
    for klass in cls.__mro__:
        if '__init__' in vars(klass):
            params = inspect.signature(vars(klass)['__init__']).parameters
            if name in params:
                return params[name]
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                return None
    return None


def _position(part: str, key: str, index: int, info: FeatureInfo, source: str) -> int:
    if not isinstance(index, int) or not -len(info) <= index < len(info):
        raise ValueError(f'model.{part}.{key}={index!r}, but {source} returns {len(info)} features '
                         f'({describe(info)}): use an index in [0, {len(info) - 1}] or leave {key} out')
    return index % len(info)


def _fill(cfg: dict, part: str, key: str, found: Union[int, list], source: str, what: str) -> None:
    """Set ``cfg[key]`` to ``found`` where it is left out; a different given value is an error."""
    given = cfg.get(key)
    if given is None:
        cfg[key] = found
    elif (list(given) if isinstance(given, (list, tuple)) else given) != found:
        raise ValueError(f'model.{part}.{key}={given!r}, but {what} has {found} channels ({source}): remove '
                         f'model.{part}.{key} to take it from the backbone, or fix it')


def _low_level_index(part: str, info: FeatureInfo, source: str) -> int:
    """The deepest feature at reduction 4 (the paper's Conv2 of ResNet: the end of the stride-4 stage)."""
    found = [i for i, spec in enumerate(info) if spec.reduction == LOW_LEVEL_REDUCTION]
    if not found:
        raise ValueError(f'model.{part}: the DeepLabv3+ decoder reads the stride-{LOW_LEVEL_REDUCTION} feature, but '
                         f'{source} returns none ({describe(info)}). Add a stride-{LOW_LEVEL_REDUCTION} stage to the '
                         f'backbone\'s out_indices, set model.{part}.low_level_index, or set '
                         f'model.{part}.low_level_in_channels=0 for ASPP without the decoder')
    return found[-1]


def with_feature_info(part: str, cfg: Mapping, registry, info: Optional[FeatureInfo], source: str) -> dict:
    """The config of head ``part`` with the input arguments it leaves out taken from ``info`` (the features of
    ``source``, e.g. ``"model.backbone (TimmBackbone 'convnext_tiny')"``); see the module docstring.

    Only the arguments the head's class takes are filled. Without ``info`` (a backbone that does not report its
    features) the config is returned as it is, or refused with the key to set when it lacks a required one.
    """
    cfg = dict(cfg)
    cls = registry.get(cfg['type']) if isinstance(cfg.get('type'), str) else cfg.get('type')
    takes = set(accepted_arguments(cls)) if cls is not None else set()
    if info is None:
        for key in ('in_channels', 'low_level_in_channels'):
            param = _parameter(cls, key) if key in takes else None
            if param is not None and param.default is inspect.Parameter.empty and cfg.get(key) is None:
                raise ValueError(f'model.{part}.{key} is not set and {source} does not report its features '
                                 f'(feature_info): set model.{part}.{key}')
        return cfg
    if 'in_channels' in takes and 'in_index' in takes:
        index = cfg.get('in_index')
        if index is None:
            index = cfg['in_index'] = len(info) - 1
        if isinstance(index, Sequence):
            positions = [_position(part, 'in_index', i, info, source) for i in index]
            channels = [info[i].channels for i in positions]
            what = f'features {positions}'
        else:
            position = _position(part, 'in_index', index, info, source)
            channels, what = info[position].channels, f'feature {position} (stride {info[position].reduction})'
        _fill(cfg, part, 'in_channels', channels, source, what)
    if {'low_level_in_channels', 'low_level_index'} <= takes and cfg.get('low_level_in_channels') != 0:
        index = cfg.get('low_level_index')
        if index is None:
            index = cfg['low_level_index'] = _low_level_index(part, info, source)
        position = _position(part, 'low_level_index', index, info, source)
        _fill(cfg, part, 'low_level_in_channels', info[position].channels, source,
              f'feature {position} (stride {info[position].reduction})')
    return cfg
