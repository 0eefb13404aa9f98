"""DeepLabv3 and DeepLabv3+ heads: an :class:`ASPP` on the last backbone stage, plus the v3+ decoder."""
from typing import Optional, Sequence

import torch

from segkit.models.output_stride import scale_rates
from segkit.registry import HEADS

from .aspp import ASPP
from .decode_head import DecodeHead
from .decoder import DeepLabV3PlusDecoder


@HEADS.register_module()
class ASPPHead(DecodeHead):
    """DeepLabv3 head (arXiv:1706.05587, Fig. 5): ASPP with image pooling, then the classifier.

    ``separable`` and ``project_kernel_size`` are :class:`ASPP`'s. MMSegmentation's ``deeplabv3_r50-d8`` is
    ``channels=512, project_kernel_size=3`` with rates (1, 12, 24, 36) at output stride 8; the paper's form is
    ``channels=256, project_kernel_size=1`` with rates (1, 6, 12, 18) at output stride 16. MMSegmentation
    checkpoints load through :attr:`legacy_keys`.

    ``dilations`` are quoted for ``dilations_output_stride`` (16, as the v3 paper); with ``output_stride`` set
    (the model-level knob passes it) they are rescaled to it: x2 at 8, x0.5 at 32 (rate 1 stays the 1x1 branch).
    ``output_stride=None`` uses ``dilations`` as given.
    """

    legacy_keys = {**DecodeHead.legacy_keys, 'image_pool.': 'aspp.image_pool.', 'aspp_modules.': 'aspp.branches.',
                   'bottleneck.': 'aspp.project.'}

    def __init__(self, *, dilations: Sequence[int] = (1, 6, 12, 18), output_stride: Optional[int] = None,
                 dilations_output_stride: int = 16, image_pooling: bool = True, separable: bool = False,
                 project_kernel_size: int = 1, **kwargs):
        kwargs.setdefault('in_index', -1)
        super().__init__(**kwargs)
        self.output_stride = output_stride
        self.dilations = scale_rates(type(self).__name__, dilations, dilations_output_stride, output_stride)
        self.aspp = ASPP(in_channels=self.in_channels, channels=self.channels, dilations=self.dilations,
                         image_pooling=image_pooling, separable=separable, project_kernel_size=project_kernel_size,
                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg, align_corners=self.align_corners)

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.aspp(self.select_inputs(inputs))


@HEADS.register_module()
class DepthwiseSeparableASPPHead(ASPPHead):
    """DeepLabv3+ head (arXiv:1802.02611, Fig. 2): ASPP with atrous separable convs, then the decoder.

    The decoder reads backbone output ``low_level_index`` (output stride 4), reduces it to
    ``low_level_channels`` (48 in the paper) and fuses it with the upsampled ASPP output; ``low_level_in_channels``
    is MMSegmentation's ``c1_in_channels`` and ``low_level_channels`` its ``c1_channels``. Set
    ``low_level_in_channels=0`` for ASPP without decoder. ``separable_decoder`` chooses atrous-separable (paper's
    Xception model, MMSegmentation) or plain 3x3 decoder convs.
    """

    legacy_keys = {**ASPPHead.legacy_keys, 'c1_bottleneck.': 'decoder.low_level_proj.',
                   'sep_bottleneck.': 'decoder.fuse.'}

    def __init__(self, *, low_level_in_channels: int, low_level_channels: int = 48, low_level_index: int = 0,
                 separable_decoder: bool = True, separable: bool = True, **kwargs):
        super().__init__(separable=separable, **kwargs)
        self.low_level_index = low_level_index
        self.decoder = None
        if low_level_in_channels > 0:
            self.decoder = DeepLabV3PlusDecoder(
                low_level_in_channels=low_level_in_channels, low_level_channels=low_level_channels,
                encoder_channels=self.channels, channels=self.channels, separable=separable_decoder,
                norm_cfg=self.norm_cfg, act_cfg=self.act_cfg, align_corners=self.align_corners)

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        out = self.aspp(self.select_inputs(inputs))
        if self.decoder is not None:
            out = self.decoder(out, inputs[self.low_level_index])
        return out
