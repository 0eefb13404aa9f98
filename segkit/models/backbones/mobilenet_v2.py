"""MobileNetV2 backbone (Sandler et al. 2018), with dilation for dense prediction (DeepLabv3, Sec. 4 of the paper)."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from segkit.models.output_stride import backbone_strides, reached_output_stride
from segkit.registry import BACKBONES
from .convert import (convert_torchvision_mobilenet_v2, looks_like_torchvision_mobilenet_v2,
                      unused_torchvision_keys)
from .convert_mmseg import looks_like_mmseg_mobilenet_v2, rename_mmseg_mobilenet_v2_keys
from .inverted_residual import InvertedResidual
from .input_channels import ExpandsInputConv
from .pretrained import read_state_dict
from .utils import StageFreezing, check_frozen_stages, check_indices, check_per_stage

#: (expand ratio t, channels c, repeats n) of the 7 bottleneck stages; Table 2 of the paper.
ARCH_SETTINGS = ((1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1))
#: Stride of each stage without dilation (the ``s`` column of Table 2); the stem has stride 2.
STRIDES = (1, 2, 2, 2, 1, 2, 1)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a widened channel count to a multiple of ``divisor``, never more than 10% below ``value``."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@BACKBONES.register_module()
class MobileNetV2(ExpandsInputConv, StageFreezing, BaseModule):
    """MobileNetV2: a 3x3 stride-2 ``stem`` conv (32 channels) then 7 stages ``layer1``..``layer7`` of
    :class:`InvertedResidual` blocks. The final 1x1 conv to 1280 channels and the classifier are not built.

    Dilated stages keep resolution: ``output_stride=8`` gives ``strides=(1, 2, 2, 1, 1, 1, 1),
    dilations=(1, 1, 1, 2, 2, 4, 4)``, 16 gives ``strides=(1, 2, 2, 2, 1, 1, 1), dilations=(1, 1, 1, 1, 1, 2, 2)``.
    The stride goes to the first block of a stage; the dilation to the depthwise conv of all its blocks.

    Args:
        widen_factor: width multiplier of the paper; channels are rounded to multiples of 8.
        in_channels: bands of the input image; pretrained RGB weights of the first conv are expanded to them
            (:mod:`~segkit.models.backbones.input_channels`).
        output_stride: 8, 16 or 32: derive ``strides`` and ``dilations`` from it
            (:func:`~segkit.models.output_stride.atrous_schedule`). None (default): the undilated network (output
            stride 32), or the explicit tuples when given. ``self.output_stride`` is the one the network reaches.
        strides: stride of the first block of each stage (MMSegmentation form; not with ``output_stride``).
        dilations: dilation of the depthwise convs of each stage (MMSegmentation form; not with ``output_stride``).
        dilate_first_block_only: give a stage's dilation to its first block only, the others keep dilation 1, as
            MMSegmentation's MobileNetV2 does; its ``*_m-v2-d8`` checkpoints need it (they also load: their keys
            are renamed on load, see :mod:`segkit.models.backbones.convert_mmseg`).
        out_indices: stages whose outputs ``forward`` returns; the default gives strides 4, 8, 16, 32.
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` the stem and the first ``n`` stages.
        norm_eval: keep every BN layer in eval mode during ``train()``.
        norm_cfg: norm layer config; ``dict(type='SyncBN')`` for multi-GPU training.
        act_cfg: activation config (ReLU6 in the paper).
        init_cfg: mmengine init config. With ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` the file may
            be torchvision's ImageNet ``mobilenet_v2`` weights (converted on the fly, see
            :mod:`segkit.models.backbones.convert`) or a segkit state_dict; see :meth:`load_pretrained`.

    ``forward(x)`` returns a tuple with one feature map per entry of ``out_indices``.
    """

    first_conv = 'stem.conv.weight'  # its RGB ImageNet weight is expanded to in_channels on load

    def __init__(self, widen_factor: float = 1.0, in_channels: int = 3,
                 output_stride: Optional[int] = None, strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None, dilate_first_block_only: bool = False,
                 out_indices: Sequence[int] = (1, 2, 4, 6), frozen_stages: int = -1, norm_eval: bool = False,
                 norm_cfg: dict = dict(type='BN', requires_grad=True), act_cfg: dict = dict(type='ReLU6'),
                 init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        self.set_in_channels(in_channels)
        num_stages = len(ARCH_SETTINGS)
        if widen_factor <= 0:
            raise ValueError(f'MobileNetV2: widen_factor={widen_factor} must be > 0')
        self.widen_factor = widen_factor
        strides, dilations = backbone_strides('MobileNetV2', output_stride, strides, dilations,
                                              default_strides=STRIDES, input_stride=2)
        self.strides = check_per_stage('strides', strides, num_stages)
        self.dilations = check_per_stage('dilations', dilations, num_stages)
        self.output_stride = reached_output_stride(2, self.strides)
        if any(s not in (1, 2) for s in self.strides):
            raise ValueError(f'MobileNetV2: strides={self.strides} must hold 1 or 2 only')
        self.out_indices = check_indices('out_indices', out_indices, num_stages)
        self.frozen_stages = check_frozen_stages(frozen_stages, num_stages)
        self.norm_eval = norm_eval
        self.dilate_first_block_only = dilate_first_block_only
        norm_cfg, act_cfg = copy.deepcopy(norm_cfg), copy.deepcopy(act_cfg)

        channels = make_divisible(32 * widen_factor)
        self.stem = ConvModule(in_channels, channels, 3, stride=2, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stage_names: List[str] = []
        stage_channels = []
        for i, (expand_ratio, width, repeats) in enumerate(ARCH_SETTINGS):
            out_channels = make_divisible(width * widen_factor)
            blocks = []
            for j in range(repeats):
                dilation = 1 if j > 0 and dilate_first_block_only else self.dilations[i]
                blocks.append(InvertedResidual(channels, out_channels, stride=self.strides[i] if j == 0 else 1,
                                               expand_ratio=expand_ratio, dilation=dilation,
                                               norm_cfg=norm_cfg, act_cfg=act_cfg))
                channels = out_channels
            name = f'layer{i + 1}'
            self.add_module(name, nn.Sequential(*blocks))
            self.stage_names.append(name)
            stage_channels.append(out_channels)
        self.out_channels: Tuple[int, ...] = tuple(stage_channels[i] for i in self.out_indices)
        self._freeze_stages()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if looks_like_mmseg_mobilenet_v2(state_dict, prefix):
            rename_mmseg_mobilenet_v2_keys(state_dict, prefix, [t for t, _, _ in ARCH_SETTINGS])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        self.load_pretrained(cfg['checkpoint'], prefix=cfg.get('prefix'),
                             map_location=cfg.get('map_location', 'cpu'))
        self._is_init = True

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> List[str]:
        """Load weights from a torchvision ``mobilenet_v2`` file or a segkit one; return the checkpoint keys the
        backbone did not use (for torchvision: ``features.18.*`` and ``classifier.*``). Raises ``KeyError`` when a
        backbone weight is missing from the file."""
        state_dict = read_state_dict(checkpoint, prefix=prefix, map_location=map_location)
        unused = []
        if looks_like_torchvision_mobilenet_v2(state_dict):
            unused = unused_torchvision_keys(state_dict)
            state_dict = convert_torchvision_mobilenet_v2(state_dict)
        try:
            missing, unexpected = self.load_state_dict(state_dict, strict=False)
        except RuntimeError as exc:  # size mismatches
            raise RuntimeError(f'{checkpoint}: weights do not fit MobileNetV2(widen_factor={self.widen_factor}): '
                               f'{exc}') from exc
        unused += unexpected
        if missing:
            shown = ', '.join(missing[:5]) + (', ...' if len(missing) > 5 else '')
            raise KeyError(f'{checkpoint}: {len(missing)} MobileNetV2 weights are missing from the checkpoint '
                           f'({shown}). The file must be torchvision mobilenet_v2 weights (features.N.*), an '
                           f'MMSegmentation one (conv1.*, layerS.B.conv.K.*) or a segkit backbone state_dict;'
                           f" for a full segmentor checkpoint set prefix='backbone.'")
        if unused:
            stems = sorted({'.'.join(k.split('.')[:2]) for k in unused})
            print_log(f'MobileNetV2: {len(unused)} keys of {checkpoint} are not used by the backbone '
                      f'({", ".join(stems)})', logger='current')
        return unused

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
