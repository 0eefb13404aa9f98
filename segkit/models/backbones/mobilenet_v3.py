"""MobileNetV3-Large (Howard et al. 2019), with dilation for dense prediction as torchvision's DeepLabv3 uses it."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from segkit.models.output_stride import atrous_schedule, reached_output_stride
from segkit.registry import BACKBONES

from .convert_mobilenet_v3 import convert_torchvision_mobilenet_v3, looks_like_torchvision_mobilenet_v3
from .inverted_residual import InvertedResidual
from .mobilenet_v2 import make_divisible
from .mobilenet_v3_arch import LARGE_BLOCKS, LAST_CHANNELS, STEM_CHANNELS
from .input_channels import ExpandsInputConv
from .pretrained import PretrainedFromFile, load_backbone_weights
from .utils import StageFreezing, check_frozen_stages, check_indices


@BACKBONES.register_module()
class MobileNetV3(ExpandsInputConv, StageFreezing, PretrainedFromFile, BaseModule):
    """MobileNetV3-Large without its classifier: ``stem`` (3x3 stride-2 conv, hard-swish), the 15 bneck blocks
    ``layer1``..``layer15`` (:class:`InvertedResidual` with 3x3 or 5x5 depthwise convs and squeeze-and-excite)
    and ``last_conv`` (1x1 to 960 channels, hard-swish). Layer ``i`` is torchvision's ``features[i]`` (0: stem,
    16: ``last_conv``), which is what ``out_indices`` counts.

    Output stride: a strided block that would take the resolution below ``output_stride`` runs at stride 1 and it
    and every later block get twice the dilation (torchvision's ``dilated=True`` is output stride 16: the last
    three blocks at rate 2).

    Args:
        in_channels: bands of the input image; pretrained RGB weights of the first conv are expanded to them
            (:mod:`~segkit.models.backbones.input_channels`).
        output_stride: 8, 16 or 32 (:func:`~segkit.models.output_stride.atrous_schedule`); None (default): the
            undilated network of the ImageNet classifier, output stride 32.
        out_indices: layers whose outputs ``forward`` returns, 0-16. The default (3, 6, 12, 16) ends each
            resolution (strides 4, 8, 16, 32 at output stride 32); torchvision's DeepLabv3 reads (4, 16).
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` the stem and the first ``n`` layers.
        norm_eval: keep every BN layer in eval mode during ``train()``.
        norm_cfg: norm layer config; eps 1e-3 and momentum 0.01 as torchvision's (and the paper's TensorFlow).
        init_cfg: mmengine init config. ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` takes
            torchvision's ImageNet ``mobilenet_v3_large`` file (converted on the fly by
            :mod:`~segkit.models.backbones.convert_mobilenet_v3`) or a segkit state_dict.

    ``forward(x)`` returns a tuple with one feature map per entry of ``out_indices``.
    """

    first_conv = 'stem.conv.weight'  # its RGB ImageNet weight is expanded to in_channels on load

    def __init__(self, in_channels: int = 3, output_stride: Optional[int] = None,
                 out_indices: Sequence[int] = (3, 6, 12, 16), frozen_stages: int = -1, norm_eval: bool = False,
                 norm_cfg: dict = dict(type='BN', eps=1e-3, momentum=0.01, requires_grad=True),
                 init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d', mode='fan_out'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        self.set_in_channels(in_channels)
        num_layers = len(LARGE_BLOCKS) + 2
        schedule = atrous_schedule('MobileNetV3', [b[-1] for b in LARGE_BLOCKS], 2, output_stride)
        self.output_stride = reached_output_stride(2, [step.stride for step in schedule])
        self.out_indices = check_indices('out_indices', out_indices, num_layers)
        self.frozen_stages = check_frozen_stages(frozen_stages, num_layers - 1)
        self.norm_eval = norm_eval
        norm_cfg = copy.deepcopy(norm_cfg)
        hswish = dict(type='HSwish')

        self.stem = ConvModule(in_channels, STEM_CHANNELS, 3, stride=2, padding=1, norm_cfg=norm_cfg, act_cfg=hswish)
        self.stage_names: List[str] = []
        layer_channels = [STEM_CHANNELS]
        channels = STEM_CHANNELS
        for i, (kernel, expanded, out_channels, use_se, act, _) in enumerate(LARGE_BLOCKS, start=1):
            block_stride, _, dilation = schedule[i - 1]  # the block whose stride goes takes the new rate
            squeeze = make_divisible(expanded // 4) if use_se else None
            block = InvertedResidual(channels, out_channels, stride=block_stride, expand_ratio=expanded / channels,
                                     dilation=dilation, norm_cfg=norm_cfg, act_cfg=dict(type=act), kernel_size=kernel,
                                     squeeze_channels=squeeze)
            self.add_module(f'layer{i}', block)
            self.stage_names.append(f'layer{i}')
            layer_channels.append(out_channels)
            channels = out_channels
        self.last_conv = ConvModule(channels, LAST_CHANNELS, 1, norm_cfg=norm_cfg, act_cfg=hswish)
        self.stage_names.append('last_conv')
        layer_channels.append(LAST_CHANNELS)
        self.out_channels: Tuple[int, ...] = tuple(layer_channels[i] for i in self.out_indices)
        self._freeze_stages()

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> List[str]:
        """Load torchvision ``mobilenet_v3_large`` weights or a segkit state_dict; return the keys not used
        (``classifier.*`` for torchvision). Raises ``KeyError`` when a backbone weight is missing."""
        def convert(state_dict):
            if not looks_like_torchvision_mobilenet_v3(state_dict):
                return None
            return convert_torchvision_mobilenet_v3(state_dict)
        return load_backbone_weights(
            self, checkpoint, 'MobileNetV3', convert=convert, prefix=prefix, map_location=map_location,
            expected='The file must hold torchvision mobilenet_v3_large weights (features.N.*) or a segkit backbone '
                     'state_dict.')

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outs = [x] if 0 in self.out_indices else []
        for i, name in enumerate(self.stage_names, start=1):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
