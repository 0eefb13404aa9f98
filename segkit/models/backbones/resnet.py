"""ResNetV1c: ResNet with the "deep stem" of the ResNet-D family, the backbone MMSegmentation uses for DeepLab."""
import copy
import logging
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from segkit.models.output_stride import backbone_strides, reached_output_stride
from segkit.registry import BACKBONES

from .input_channels import ExpandsInputConv
from .pretrained import remote_checkpoint, unreachable_message
from .resnet_blocks import BasicBlock, Bottleneck, residual_stage
from .utils import StageFreezing, check_frozen_stages, check_indices, check_per_stage

#: depth -> (block, blocks per stage); He et al. 2016, Table 1.
ARCH_SETTINGS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


@BACKBONES.register_module()
class ResNetV1c(ExpandsInputConv, StageFreezing, BaseModule):
    """ResNet whose 7x7 stem conv is replaced by three 3x3 convs (He et al. 2019, "Bag of Tricks", ResNet-C).

    Stem: 3x3 convs with strides 2, 1, 1 (``stem_channels // 2``, ``stem_channels // 2``, ``stem_channels``
    channels), each with norm and activation, then a 3x3 max-pool of stride 2. Projection shortcuts are a strided 1x1
    conv + norm. Attribute names (``stem.0`` ... ``stem.7``, ``layerN.M.convK``/``bnK``, ``downsample.0/1``) match
    MMSegmentation's ``ResNetV1c``, so its checkpoints load with ``init_cfg=dict(type='Pretrained', ...)``.

    Dilated ("atrous") stages replace strides to keep resolution (DeepLab, Chen et al. 2017, Sec. 3.1):
    ``output_stride=8`` gives ``strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)``, 16 gives ``strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2)``. MMSegmentation configs spell the tuples out instead; both forms build the same network.

    Args:
        depth: 18, 34 (BasicBlock) or 50, 101, 152 (Bottleneck).
        in_channels: bands of the input image; pretrained RGB weights of the first conv are expanded to them
            (:mod:`~segkit.models.backbones.input_channels`).
        stem_channels: output channels of the stem.
        base_channels: width of the first stage; stage ``i`` has ``base_channels * 2**i`` (times 4 at the
            output of a Bottleneck).
        num_stages: how many of the 4 residual stages to build.
        output_stride: 8, 16 or 32: derive ``strides`` and ``dilations`` from it
            (:func:`~segkit.models.output_stride.atrous_schedule`). None (default): the undilated network (output
            stride 32), or the explicit tuples when given. ``self.output_stride`` is the one the network reaches.
        strides: stride of the first block of each stage (MMSegmentation form; not with ``output_stride``).
        dilations: dilation of the 3x3 convs of each stage (MMSegmentation form; not with ``output_stride``).
        out_indices: stages whose outputs ``forward`` returns.
        contract_dilation: the first block of a stage with dilation ``d > 1`` uses ``d // 2`` (as MMSegmentation).
        multi_grid: "Multi-grid" unit rates of the last stage's blocks (DeepLabv3, Chen et al. 2017, Sec. 3.2),
            e.g. ``(1, 2, 4)``; each block's dilation is its unit rate times the stage's dilation (the paper: at
            output stride 16, block4's rates are 2 * (1, 2, 4) = (2, 4, 8)). One rate per block of the last stage;
            it takes precedence over ``contract_dilation`` there.
        multi_grid_mode: ``'unit'`` (paper, default) as above; ``'absolute'``: the ``multi_grid`` numbers are the
            dilations themselves, whatever the stage's dilation (MMSegmentation's ``multi_grid``; its
            ``deeplabv3_r101-d16-mg124`` checkpoints need it).
        frozen_stages: -1 freezes nothing, 0 the stem, ``n`` the stem and the first ``n`` stages (no gradients, BN
            in eval mode).
        norm_eval: keep every BN layer in eval mode (running statistics fixed) during ``train()``.
        zero_init_residual: set the weight of each block's last norm layer to 0 at init, so each block starts as
            the identity (Goyal et al. 2017). Not applied when loading pretrained weights.
        norm_cfg: norm layer config; ``dict(type='SyncBN')`` for multi-GPU training.
        act_cfg: activation config.
        init_cfg: mmengine init config; pretrained weights come through ``dict(type='Pretrained',
            checkpoint=PATH, prefix='backbone.')``. Default: Kaiming for convs, 1/0 for norm weights/biases.

    ``forward(x)`` returns a tuple with one feature map per entry of ``out_indices``.
    """

    first_conv = 'stem.0.weight'  # its RGB ImageNet weight is expanded to in_channels on load

    def __init__(self, depth: int, in_channels: int = 3, stem_channels: int = 64, base_channels: int = 64,
                 num_stages: int = 4, output_stride: Optional[int] = None, strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None, out_indices: Sequence[int] = (0, 1, 2, 3),
                 contract_dilation: bool = False, multi_grid: Optional[Sequence[int]] = None,
                 multi_grid_mode: str = 'unit', frozen_stages: int = -1, norm_eval: bool = False,
                 zero_init_residual: bool = True, norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU', inplace=True), init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        self.set_in_channels(in_channels)
        if depth not in ARCH_SETTINGS:
            raise ValueError(f'ResNetV1c: depth={depth!r} is not supported; use one of {sorted(ARCH_SETTINGS)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'ResNetV1c: num_stages={num_stages} must be between 1 and 4')
        if stem_channels < 2 or stem_channels % 2:
            raise ValueError(f'ResNetV1c: stem_channels={stem_channels} must be an even number >= 2 '
                             f'(the first two stem convs have stem_channels // 2 channels)')
        block, stage_blocks = ARCH_SETTINGS[depth]
        stage_blocks = stage_blocks[:num_stages]
        self.depth = depth
        strides, dilations = backbone_strides('ResNetV1c', output_stride, strides, dilations,
                                              default_strides=(1, 2, 2, 2)[:num_stages], input_stride=4)
        self.strides = check_per_stage('strides', strides, num_stages)
        self.dilations = check_per_stage('dilations', dilations, num_stages)
        self.output_stride = reached_output_stride(4, self.strides)
        self.out_indices = check_indices('out_indices', out_indices, num_stages)
        self.frozen_stages = check_frozen_stages(frozen_stages, num_stages)
        if multi_grid is not None:
            multi_grid = tuple(multi_grid)
            if len(multi_grid) != stage_blocks[-1] or any(not isinstance(g, int) or g < 1 for g in multi_grid):
                raise ValueError(f'ResNetV1c: multi_grid={multi_grid} needs one positive int per block of the last '
                                 f'stage, which has {stage_blocks[-1]} blocks for depth={depth}')
        if multi_grid_mode not in ('unit', 'absolute'):
            raise ValueError(f"ResNetV1c: multi_grid_mode={multi_grid_mode!r} must be 'unit' (the paper: rates times "
                             "the stage's dilation) or 'absolute' (MMSegmentation: the dilations themselves)")
        self.multi_grid = multi_grid
        self.multi_grid_mode = multi_grid_mode
        self.contract_dilation = contract_dilation
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        norm_cfg, act_cfg = copy.deepcopy(norm_cfg), copy.deepcopy(act_cfg)

        self.stem = self._make_stem(in_channels, stem_channels, norm_cfg, act_cfg)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        self.stage_names: List[str] = []
        channels_in, out_channels = stem_channels, []
        for i, num_blocks in enumerate(stage_blocks):
            channels = base_channels * 2**i
            block_dilations = self._block_dilations(i, num_blocks, num_stages)
            stage = residual_stage(block, channels_in, channels, num_blocks, self.strides[i], block_dilations,
                                   norm_cfg, act_cfg)
            name = f'layer{i + 1}'
            self.add_module(name, stage)
            self.stage_names.append(name)
            channels_in = channels * block.expansion
            out_channels.append(channels_in)
        self.out_channels: Tuple[int, ...] = tuple(out_channels[i] for i in self.out_indices)
        self._freeze_stages()

    @staticmethod
    def _make_stem(in_channels: int, stem_channels: int, norm_cfg: dict, act_cfg: dict) -> nn.Sequential:
        layers = []
        widths = (stem_channels // 2, stem_channels // 2, stem_channels)
        for stride, width in zip((2, 1, 1), widths):
            layers += [build_conv_layer(None, in_channels, width, 3, stride=stride, padding=1, bias=False),
                       build_norm_layer(norm_cfg, width)[1], build_activation_layer(act_cfg)]
            in_channels = width
        return nn.Sequential(*layers)

    def _block_dilations(self, stage: int, num_blocks: int, num_stages: int) -> List[int]:
        dilation = self.dilations[stage]
        if self.multi_grid is not None and stage == num_stages - 1:
            unit = 1 if self.multi_grid_mode == 'absolute' else dilation
            return [unit * rate for rate in self.multi_grid]
        first = dilation // 2 if self.contract_dilation and dilation > 1 else dilation
        return [first] + [dilation] * (num_blocks - 1)

    def init_weights(self) -> None:
        try:
            super().init_weights()
        except OSError as exc:  # offline and the ImageNet file is remote: keep building (benchmarks, tests);
            checkpoint = remote_checkpoint(self.init_cfg)  # tools/train.py refuses to train like this
            if checkpoint is None:
                raise
            print_log(f'ResNetV1c keeps its random initialisation: {unreachable_message(checkpoint, exc)}',
                      logger='current', level=logging.WARNING)
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        pretrained = any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)
        if self.zero_init_residual and not pretrained:
            for name in self.stage_names:
                for block in getattr(self, name):
                    nn.init.zeros_(block.last_norm.weight)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.maxpool(self.stem(x))
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
