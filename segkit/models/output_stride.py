"""Output stride: the ratio of input size to the backbone's final feature map (DeepLabv3, arXiv:1706.05587, 3.1).

The papers quote atrous rates for one output stride (v1/v2: 8; v3/v3+: 16) and double them when the output
stride halves, so that each rate covers the same part of the image. Backbones take ``output_stride`` and turn
it into strides and dilations; heads take their rates at a reference output stride and rescale them here.
"""
from typing import Optional, Sequence, Tuple

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
