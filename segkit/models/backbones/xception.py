"""Modified aligned Xception, the DeepLabv3+ backbone (Chen et al. 2018, arXiv:1802.02611, Sec. 3.2, Fig. 4)."""
import copy
import itertools
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from segkit.models.output_stride import atrous_schedule, reached_output_stride
from segkit.registry import BACKBONES

from .convert_xception import convert_timm_xception, looks_like_timm_xception, timm_xception_blocks
from .input_channels import ExpandsInputConv
from .pretrained import PretrainedFromFile, load_backbone_weights
from .utils import StageFreezing, check_frozen_stages, check_indices
from .xception_block import XceptionBlock

#: depth -> entry-flow blocks as (output channels, stride). Xception-71 splits each strided entry block of
#: Xception-65 in two: a stride-1 block that widens and a strided one (the DeepLab model zoo's xception_71).
ENTRY_FLOWS = {
    41: ((128, 2), (256, 2), (728, 2)),
    65: ((128, 2), (256, 2), (728, 2)),
    71: ((128, 2), (256, 1), (256, 2), (728, 1), (728, 2)),
}
#: depth -> repeats of the middle-flow block (728 channels); the paper's Xception-65 has 16, Xception-41 8.
MIDDLE_REPEATS = {41: 8, 65: 16, 71: 16}
#: The exit flow: a strided residual block, then three separable convs with ReLU after each BN (Fig. 4).
EXIT_FLOW = (((728, 1024, 1024), 2), ((1536, 1536, 2048), 1))
#: Channels of the 5 feature levels ``out_indices`` picks from: strides 2, 4, 8, 16 (each taken inside a strided
#: block, before its last separable conv) and the exit flow's output.
LEVEL_CHANNELS = (128, 256, 728, 1024, 2048)


@BACKBONES.register_module()
class Xception(ExpandsInputConv, StageFreezing, PretrainedFromFile, BaseModule):
    """Modified aligned Xception-41/65/71: ``stem`` (3x3 convs of 32, stride 2, and 64 channels), ``entry_flow``,
    ``middle_flow`` and ``exit_flow`` of :class:`XceptionBlock` s.

    As in the paper's changes to Xception (Sec. 3.2): a deeper middle flow, every max pooling replaced by a strided
    depthwise separable conv (so atrous convs can take its place), and BN after each depthwise conv. The ReLUs
    follow the released model (TensorFlow DeepLab, timm ``xception65``): before each separable conv of the
    residual blocks, after each BN in the last exit block.

    Output stride: the stride of a block that would take the resolution below ``output_stride`` is replaced by
    dilation; that block keeps the current rate and the blocks after it use the doubled one (DeepLab's
    ``stack_blocks_dense``, timm's ``output_stride``). 16 dilates the last exit block by 2; 8 also the middle
    flow (2) and the exit flow (4).

    Args:
        depth: 41, 65 or 71.
        in_channels: bands of the input image; pretrained RGB weights of the first conv are expanded to them
            (:mod:`~segkit.models.backbones.input_channels`).
        output_stride: 8, 16 or 32 (:func:`~segkit.models.output_stride.atrous_schedule`); None (default): the
            undilated network of the ImageNet classifier, output stride 32.
        out_indices: which of the 5 feature levels ``forward`` returns: 0-3 are at strides 2, 4, 8, 16 (at most
            ``output_stride``; 128, 256, 728, 1024 channels) and 4 is the exit flow's output (2048 channels). The
            default gives strides 4, 8, 16, 32 like the other backbones; level 1 is the v3+ decoder's input.
        frozen_stages: -1 freezes nothing, 0 the stem, 1-3 the stem and that many flows.
        norm_eval: keep every BN layer in eval mode during ``train()``.
        norm_cfg: norm layer config; the default eps of 1e-3 is TensorFlow's, which the ImageNet weights use.
        act_cfg: activation config.
        init_cfg: mmengine init config. ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` takes timm's
            ImageNet weights of the same depth (``xception65.tf_in1k`` ...: ``pytorch_model.bin`` or
            ``model.safetensors``, converted on the fly by :mod:`~segkit.models.backbones.convert_xception`) or a
            segkit state_dict.

    ``forward(x)`` returns a tuple with one feature map per entry of ``out_indices``.
    """

    first_conv = 'stem.0.conv.weight'  # its RGB ImageNet weight is expanded to in_channels on load

    def __init__(self, depth: int = 65, in_channels: int = 3, output_stride: Optional[int] = None,
                 out_indices: Sequence[int] = (1, 2, 3, 4), frozen_stages: int = -1, norm_eval: bool = False,
                 norm_cfg: dict = dict(type='BN', eps=1e-3, requires_grad=True), act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        self.set_in_channels(in_channels)
        if depth not in ENTRY_FLOWS:
            raise ValueError(f'Xception: depth={depth!r} is not supported; use one of {sorted(ENTRY_FLOWS)}')
        self.depth = depth
        self.out_indices = check_indices('out_indices', out_indices, len(LEVEL_CHANNELS))
        self.frozen_stages = check_frozen_stages(frozen_stages, 3)
        self.norm_eval = norm_eval
        norm_cfg, act_cfg = copy.deepcopy(norm_cfg), copy.deepcopy(act_cfg)

        self.stem = nn.Sequential(
            ConvModule(in_channels, 32, 3, stride=2, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(32, 64, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        specs = {
            'entry_flow': [((c, c, c), s) for c, s in ENTRY_FLOWS[depth]],
            'middle_flow': [((728, 728, 728), 1)] * MIDDLE_REPEATS[depth],
            'exit_flow': list(EXIT_FLOW),
        }
        #: (flow name, number of blocks) in order; the layout of timm's flat ``blocks.N``.
        self.flows: Tuple[Tuple[str, int], ...] = tuple((name, len(blocks)) for name, blocks in specs.items())
        self.stage_names = list(specs)
        block_strides = [stride for blocks in specs.values() for _, stride in blocks]
        self._tapped = [s > 1 for s in block_strides]  # per block: does it hold a feature level?
        steps = atrous_schedule('Xception', block_strides, 2, output_stride)
        self.output_stride = reached_output_stride(2, [step.stride for step in steps])
        schedule = iter(steps)
        in_ch = 64
        for name, blocks in specs.items():
            flow = []
            for channels, _ in blocks:
                stride, dilation, _ = next(schedule)  # the block keeps the rate it had before its stride went
                last = name == 'exit_flow' and len(flow) == len(blocks) - 1
                flow.append(XceptionBlock(in_ch, channels, stride=stride, dilation=dilation, residual=not last,
                                          preactivation=not last, norm_cfg=norm_cfg, act_cfg=act_cfg))
                in_ch = channels[-1]
            self.add_module(name, nn.Sequential(*flow))
        self.out_channels: Tuple[int, ...] = tuple(LEVEL_CHANNELS[i] for i in self.out_indices)
        self._freeze_stages()

    def blocks(self) -> Iterator[XceptionBlock]:
        """All blocks of the three flows, in order (timm's ``blocks``)."""
        return itertools.chain(*(getattr(self, name) for name in self.stage_names))

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> List[str]:
        """Load timm ``xception{depth}`` weights or a segkit state_dict; return the keys not used (``head.fc.*``
        for timm). Raises ``KeyError`` when a backbone weight is missing (e.g. a file of another depth)."""
        def convert(state_dict):
            if not looks_like_timm_xception(state_dict):
                return None
            blocks, expected = timm_xception_blocks(state_dict), sum(n for _, n in self.flows)
            if blocks != expected:
                raise ValueError(f'{checkpoint}: timm Xception weights with {blocks} blocks, but Xception(depth='
                                 f'{self.depth}) has {expected}; timm\'s xception41/65/71 have 13/21/23 blocks. Use '
                                 f'the file of xception{self.depth} or set depth to match the file.')
            return convert_timm_xception(state_dict, self.flows)
        return load_backbone_weights(
            self, checkpoint, f'Xception(depth={self.depth})', convert=convert, prefix=prefix,
            map_location=map_location,
            expected=f'The file must hold timm xception{self.depth} weights (blocks.N.stack.*) or a segkit backbone '
                     'state_dict.')

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(x)
        outs, level = [], 0
        for block, tapped in zip(self.blocks(), self._tapped):
            x, before_last = block(x)
            if tapped:
                if level in self.out_indices:
                    outs.append(before_last)
                level += 1
        if level in self.out_indices:
            outs.append(x)
        return tuple(outs)
