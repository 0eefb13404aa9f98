"""Output stride: the ratio of input size to the backbone's final feature map (DeepLabv3, arXiv:1706.05587, 3.1).

The papers quote atrous rates for one output stride (v1/v2: 8; v3/v3+: 16) and double them when the output
stride halves, so that each rate covers the same part of the image. Every backbone turns ``output_stride`` into
strides and atrous rates with the one :func:`atrous_schedule`; heads take their rates at a reference output
stride and rescale them with :func:`scale_rates`.

``output_stride=None`` means the same for every backbone: the undilated network of the ImageNet classifier,
output stride 32 (ResNet and MobileNetV2 also take the MMSegmentation form's explicit ``strides`` /
``dilations``, used as given). A config sets the stride in one place, ``model.output_stride``, which reaches the
backbone, the neck and the heads together (:func:`with_output_stride`).
"""
import inspect
import math
from typing import Mapping, NamedTuple, Optional, Sequence, Tuple

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


class AtrousStep(NamedTuple):
    """How one strided unit of a backbone (a stage, a block, a pool) runs at the output stride asked for."""

    stride: int  #: the stride it keeps: 1 where an atrous rate takes the stride's place
    rate_in: int  #: the atrous rate in force before the unit
    rate_out: int  #: the rate after it: ``rate_in`` times the stride it gave up


def atrous_schedule(owner: str, strides: Sequence[int], input_stride: int,
                    output_stride: Optional[int]) -> Tuple[AtrousStep, ...]:
    """The output-stride schedule of every segkit backbone (DeepLabv3, arXiv:1706.05587, Sec. 3.1; the "hole"
    algorithm of DeepLab v1, arXiv:1412.7062, Sec. 3.1).

    ``strides`` are the network's own strides, one per strided unit, and ``input_stride`` the stride before the
    first unit (a stem's). Walking the units, a stride that would take the total past ``output_stride`` becomes 1
    and multiplies the atrous rate from there on (torchvision's ``replace_stride_with_dilation``, timm's
    ``output_stride``, TensorFlow DeepLab's ``stack_blocks_dense``). ``output_stride=None`` keeps every stride:
    the undilated network of the ImageNet classifier, output stride 32 for every full segkit backbone.

    Where a unit's stride went, the backbone decides which rate that unit's own convolutions use: ``rate_out``
    (ResNet and MobileNetV2 stages, MobileNetV3 blocks: the unit takes the new rate) or ``rate_in`` (Xception
    blocks keep the rate they had; VGG's convs come before the pool whose stride goes). ResNet (stem 4, strides
    (1, 2, 2, 2)) at 8: strides (1, 2, 1, 1), ``rate_out`` (1, 1, 2, 4).
    """
    check_output_stride(owner, output_stride)
    if any(not isinstance(s, int) or s < 1 for s in strides):
        raise ValueError(f'{owner}: strides={tuple(strides)} must hold positive ints')
    total, rate, steps = input_stride, 1, []
    for stride in strides:
        rate_in = rate
        if output_stride is not None and total * stride > output_stride:
            rate *= stride
            stride = 1
        total *= stride
        steps.append(AtrousStep(stride, rate_in, rate))
    return tuple(steps)


def reached_output_stride(input_stride: int, strides: Sequence[int]) -> int:
    """The output stride of a network whose units keep ``strides`` after a stem of ``input_stride``."""
    return input_stride * math.prod(strides)


def backbone_strides(owner: str, output_stride: Optional[int], strides: Optional[Sequence[int]],
                     dilations: Optional[Sequence[int]], default_strides: Sequence[int],
                     input_stride: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Per-stage (strides, dilations) of a backbone that also takes the explicit tuples (ResNet, MobileNetV2).

    Without the tuples they come from :func:`atrous_schedule` (each stage takes ``rate_out``), so
    ``output_stride=None`` is the undilated network as for every backbone. The explicit tuples are the
    MMSegmentation form; a tuple left out (None) takes the undilated value. Giving both forms is refused.
    """
    if strides is None and dilations is None:
        steps = atrous_schedule(owner, default_strides, input_stride, output_stride)
        return tuple(s.stride for s in steps), tuple(s.rate_out for s in steps)
    check_output_stride(owner, output_stride)
    if output_stride is not None:
        raise ValueError(f'{owner}: output_stride={output_stride} derives the per-stage strides and dilations, '
                         f'so strides={strides} / dilations={dilations} must be left out (None). Use either '
                         'output_stride or the explicit tuples (the MMSegmentation form), not both.')
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
    ``required``. A different ``output_stride`` already in ``cfg``, or a backbone's explicit ``strides`` /
    ``dilations`` (which ``output_stride`` derives), are refused with the key to move or remove."""
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
                         f'place. Move output_stride from model.{part} to model (model.output_stride switches the '
                         f'backbone, neck and heads together; tools/test.py --output-stride sets it).')
    explicit = [key for key in ('strides', 'dilations') if part == 'backbone' and cfg.get(key) is not None]
    if explicit:
        raise ValueError(f'model.output_stride={output_stride} derives the strides and dilations of model.{part}, '
                         f'which also gives {" and ".join(f"{part}.{k}={tuple(cfg[k])}" for k in explicit)} (the '
                         f'MMSegmentation form): use one or the other, not both. Remove '
                         f'{" / ".join(f"model.{part}.{k}" for k in explicit)} to switch the output stride.')
    cfg['output_stride'] = output_stride
    return cfg
