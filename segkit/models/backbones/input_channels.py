"""RGB pretrained weights for a backbone whose input has another number of bands (``in_channels``).

The first convolution's 3-channel ImageNet filters become N-channel ones when the weights load, whatever the route
(``init_cfg`` Pretrained, torchvision / timm / MMSegmentation files, ``load_from``): the RGB filters are kept, each
further band gets the mean of the three, and the whole layer is scaled by 3 / N so that, for bands of similar
statistics, the layer's response keeps its scale. With fewer than three bands every band gets the mean (one band:
the sum of the RGB filters).
"""
import torch
from mmengine.logging import print_log

RGB = 3


def expand_input_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """An ``out x in_channels x k x k`` weight made from an ``out x 3 x k x k`` RGB one (see the module)."""
    if weight.dim() != 4 or weight.shape[1] != RGB:
        raise ValueError(f'expand_input_conv takes an out x 3 x k x k RGB weight, got shape {tuple(weight.shape)}')
    if in_channels < 1:
        raise ValueError(f'in_channels must be >= 1, got {in_channels}')
    mean = weight.mean(dim=1, keepdim=True)
    kept = weight if in_channels >= RGB else weight[:, :0]
    extra = mean.expand(-1, in_channels - kept.shape[1], -1, -1)
    return torch.cat([kept, extra], dim=1) * (RGB / in_channels)


class ExpandsInputConv:
    """Mixin for backbones: before the weights load, the RGB weight of ``first_conv`` (the state-dict key of the
    first convolution, relative to the backbone) is expanded to ``in_channels`` (:func:`expand_input_conv`).

    Subclasses call :meth:`set_in_channels` and set ``first_conv``; a ``_load_from_state_dict`` of their own that
    renames keys (torchvision, MMSegmentation) runs before this one, so the renamed key is found."""

    first_conv: str = ''
    in_channels: int = RGB

    def set_in_channels(self, in_channels: int) -> None:
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'{type(self).__name__}: in_channels={in_channels!r} must be an int >= 1 (the bands of '
                             'the input image)')
        self.in_channels = in_channels

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + self.first_conv
        weight = state_dict.get(key)
        if (self.in_channels != RGB and isinstance(weight, torch.Tensor) and weight.dim() == 4
                and weight.shape[1] == RGB):
            state_dict[key] = expand_input_conv(weight, self.in_channels)
            print_log(f'{type(self).__name__}: {key} expanded from 3 (RGB) to {self.in_channels} input bands (RGB '
                      f'filters kept, further bands from their mean, all x 3/{self.in_channels})', logger='current')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
