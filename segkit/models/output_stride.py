"""Output stride: the ratio of input size to the backbone's final feature map (DeepLabv3, arXiv:1706.05587, 3.1).

The papers quote atrous rates for one output stride (v1/v2: 8; v3/v3+: 16) and double them when the output
stride halves, so that each rate covers the same part of the image. Backbones take ``output_stride`` and turn
it into strides and dilations; heads take their rates at a reference output stride and rescale them here.
"""
import inspect
from typing import Mapping, Optional, Sequence, Tuple

OUTPUT_STRIDES = (8, 16, 32)


def check_output_stride(owner: str, output_stride: Optional[int]) -> Optional[int]:
    """``output_stride`` or None; anything else is refused with the values that work."""
    if output_stride is not None and output_stride not in OUTPUT_STRIDES:
        raise ValueError(f'{owner}: output_stride={output_stride!r} is not supported; use one of {OUTPUT_STRIDES}')
    return output_stride


def scale_rates(owner: str, rates: Sequence[int], rates_output_stride: int,
                output_stride: Optional[int]) -> Tuple[int, ...]:
    """Atrous ``rates`` given for ``rates_output_stride``, as they must be at ``output_stride`` (None: unchanged).

    A rate of 1 stays 1 (the 1x1 branch of ASPP is not atrous); other rates scale by
    ``rates_output_stride / output_stride`` and must stay whole numbers of at least 1.
    """
    rates = tuple(rates)
    check_output_stride(owner, output_stride)
    if rates_output_stride not in OUTPUT_STRIDES:
        raise ValueError(f'{owner}: the rates are quoted for output stride {rates_output_stride!r}, which is not one '
                         f'of {OUTPUT_STRIDES}')
    if output_stride is None or output_stride == rates_output_stride:
        return rates
    scaled = []
    for rate in rates:
        if rate == 1:
            scaled.append(1)
            continue
        value = rate * rates_output_stride / output_stride
        if value < 1 or value != int(value):
            raise ValueError(f'{owner}: rate {rate} (given for output stride {rates_output_stride}) is not a whole '
                             f'rate at output_stride={output_stride} ({value:g}); choose rates divisible by '
                             f'{max(1, output_stride // rates_output_stride)}')
        scaled.append(int(value))
    return tuple(scaled)


def dilated_schedule(strides: Sequence[int], input_stride: int,
                     output_stride: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Per-stage (strides, dilations) that stop the total stride at ``output_stride``.

    ``strides`` are the network's own per-stage strides (no dilation) and ``input_stride`` the stride before its
    first stage (the stem's). Walking the stages, a stride that would take the total past ``output_stride``
    becomes 1 and multiplies the dilation of that stage and all later ones instead (torchvision's
    ``replace_stride_with_dilation``, timm's ``output_stride``). ResNet (stem 4, strides (1, 2, 2, 2)) at 8:
    strides (1, 2, 1, 1), dilations (1, 1, 2, 4).
    """
    total, dilation = input_stride, 1
    new_strides, dilations = [], []
    for stride in strides:
        if total * stride > output_stride:
            dilation *= stride
            stride = 1
        total *= stride
        new_strides.append(stride)
        dilations.append(dilation)
    return tuple(new_strides), tuple(dilations)


def backbone_strides(owner: str, output_stride: Optional[int], strides: Optional[Sequence[int]],
                     dilations: Optional[Sequence[int]], default_strides: Sequence[int],
                     input_stride: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """A backbone's per-stage (strides, dilations) from either ``output_stride`` or explicit tuples.

    ``output_stride`` derives both (:func:`dilated_schedule`); the explicit tuples are the MMSegmentation form.
    Giving both is refused. With neither, the network is undilated (``default_strides``, dilations of 1); a tuple
    left out (None) takes that default.
    """
    check_output_stride(owner, output_stride)
    if output_stride is not None:
        if strides is not None or dilations is not None:
            raise ValueError(f'{owner}: output_stride={output_stride} derives the per-stage strides and dilations, '
                             f'so strides={strides} / dilations={dilations} must be left out (None). Use either '
                             'output_stride or the explicit tuples (the MMSegmentation form), not both.')
        return dilated_schedule(default_strides, input_stride, output_stride)
    strides = tuple(default_strides) if strides is None else tuple(strides)
    dilations = (1,) * len(default_strides) if dilations is None else tuple(dilations)
    return strides, dilations


def takes_output_stride(cls: type) -> bool:
    """Whether ``cls(...)`` accepts ``output_stride``: its ``__init__`` or, through ``**kwargs``, a base's."""
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        if 'output_stride' in params:
            return True
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return False
    return False


def with_output_stride(part: str, cfg: Mapping, registry, output_stride: int, required: bool = False) -> dict:
    """The config of model part ``part`` (``'backbone'``, ``'neck'``, ...) with ``output_stride`` added, when the
    class it builds takes an ``output_stride`` argument; a part that does not is left as it is, or refused when
    ``required``. A different ``output_stride`` already in ``cfg`` is refused."""
    cfg = dict(cfg)
    cls = registry.get(cfg['type']) if isinstance(cfg.get('type'), str) else cfg.get('type')
    if cls is None or not takes_output_stride(cls):
        if required:
            raise TypeError(f'model.output_stride={output_stride}: model.{part} (type={cfg.get("type")!r}) takes no '
                            f'output_stride argument; set its strides/dilations instead and leave out '
                            f'model.output_stride')
        return cfg
    given = cfg.get('output_stride')
    if given is not None and given != output_stride:
        raise ValueError(f'model.output_stride={output_stride} but model.{part}.output_stride={given}: set it in one '
                         f'place (model.output_stride switches the backbone, neck and heads together)')
    cfg['output_stride'] = output_stride
    return cfg
