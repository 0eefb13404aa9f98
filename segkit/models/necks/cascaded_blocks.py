"""Going deeper with atrous convolution: DeepLabv3 (Chen et al. 2017, arXiv:1706.05587) section 3.2, Fig. 3."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.model import BaseModule
from torch import Tensor, nn

from segkit.models.backbones.resnet_blocks import BasicBlock, Bottleneck, residual_stage
from segkit.models.output_stride import check_output_stride
from segkit.registry import NECKS

BLOCKS = {'Bottleneck': Bottleneck, 'BasicBlock': BasicBlock}


@NECKS.register_module()
class CascadedBlocks(BaseModule):
    """Copies of ResNet's last block (block4) in cascade after it: block5, block6, block7, ...

    Each added block has ``num_units`` residual units of block4's width with identity shortcuts. Without atrous
    convolution each block would halve the resolution; here the output stride stays fixed and each block doubles
    the atrous rate of the one before instead: at output stride 16 block4 has rate 2, so block5 has 4, block6 8
    and block7 16; at output stride 8 all are twice that (block4's rate is ``32 // output_stride``). Multi-grid
    (section 3.2) multiplies each unit's rate by its unit rate: rates ``4 * (1, 2, 1)`` in block5 with
    ``multi_grid=(1, 2, 1)``. The paper's cascaded models (Tables 1-3) put the classifier on block7's output.

    Args:
        in_channels: channels of the backbone output the cascade continues (2048 for ResNet-50/101).
        num_blocks: blocks added after block4 (3: up to block7; 0: the neck passes its inputs through).
        num_units: residual units per block (3, as block4 of ResNet-50/101).
        output_stride: the backbone's output stride (8, 16 or 32); the model-level ``output_stride`` sets it.
        multi_grid: unit rates of the units of every added block; None: all 1.
        block: ``'Bottleneck'`` (ResNet-50 and deeper) or ``'BasicBlock'`` (ResNet-18/34).
        in_index: which backbone output the cascade continues (the last stage by default).
        zero_init_residual: start each unit as the identity (its last norm weight 0), as the backbone does.

    ``forward(inputs)`` returns the inputs followed by the output of each added block, so block7's output is the
    last entry (``in_index=-1`` of the head) and the backbone's outputs keep their indices.
    """

    def __init__(self, *, in_channels: int, num_blocks: int = 3, num_units: int = 3, output_stride: int = 16,
                 multi_grid: Optional[Sequence[int]] = None, block: str = 'Bottleneck', in_index: int = -1,
                 zero_init_residual: bool = True, norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU', inplace=True), init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        if block not in BLOCKS:
            raise ValueError(f'CascadedBlocks: block={block!r} must be one of {sorted(BLOCKS)}')
        unit = BLOCKS[block]
        if num_blocks < 0 or num_units < 1:
            raise ValueError(f'CascadedBlocks: num_blocks={num_blocks} must be >= 0 and num_units={num_units} >= 1')
        if in_channels % unit.expansion:
            raise ValueError(f'CascadedBlocks: in_channels={in_channels} must be a multiple of {unit.expansion} for '
                             f'block={block!r} (the units keep the width of block4)')
        check_output_stride('CascadedBlocks', output_stride)
        multi_grid = (1,) * num_units if multi_grid is None else tuple(multi_grid)
        if len(multi_grid) != num_units or any(not isinstance(g, int) or g < 1 for g in multi_grid):
            raise ValueError(f'CascadedBlocks: multi_grid={multi_grid} needs one positive int per unit '
                             f'(num_units={num_units})')
        self.output_stride = output_stride
        self.multi_grid = multi_grid
        self.in_index = in_index
        self.zero_init_residual = zero_init_residual
        #: atrous rate of each added block (before multi-grid): block4's rate doubled once per block
        self.rates: Tuple[int, ...] = tuple((32 // output_stride) * 2**(i + 1) for i in range(num_blocks))
        self.blocks = nn.ModuleList(
            residual_stage(unit, in_channels, in_channels // unit.expansion, num_units, 1,
                           [rate * g for g in multi_grid], copy.deepcopy(norm_cfg), copy.deepcopy(act_cfg))
            for rate in self.rates)

    def init_weights(self) -> None:
        super().init_weights()
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        pretrained = any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)
        if self.zero_init_residual and not pretrained:
            for stage in self.blocks:
                for unit in stage:
                    nn.init.zeros_(unit.last_norm.weight)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        x = inputs[self.in_index]
        outs = list(inputs)
        for stage in self.blocks:
            x = stage(x)
            outs.append(x)
        return tuple(outs)
