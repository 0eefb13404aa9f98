"""VGG-16 (Simonyan & Zisserman 2015) as DeepLab v1/v2 use it: a dense feature extractor at output stride 8."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from segkit.models.output_stride import atrous_schedule, reached_output_stride
from segkit.registry import BACKBONES

from .convert_vgg import TORCHVISION_VGG16_URL, VGG16_STAGE_CONVS, convert_torchvision_vgg16, \
    looks_like_torchvision_vgg16, unused_torchvision_vgg16_keys
from .input_channels import ExpandsInputConv
from .pretrained import PretrainedFromFile, load_backbone_weights
from .utils import StageFreezing, check_frozen_stages, check_indices, freeze

#: Stride of pool1..pool5 in VGG-16 (each 2: output stride 32); :func:`atrous_schedule` sets them to 1 past the
#: output stride asked for and dilates the convs after them.
POOL_STRIDES = (2, 2, 2, 2, 2)

VGG16_FILE_HINT = ("The file must be torchvision's vgg16 (or vgg16_bn with norm_cfg=BN) ImageNet weights "
                   f'({TORCHVISION_VGG16_URL}) or a segkit VGG16 state_dict')


@BACKBONES.register_module()
class VGG16(ExpandsInputConv, StageFreezing, PretrainedFromFile, BaseModule):
    """VGG-16 in the DeepLab form (DeepLab v1, arXiv:1412.7062, Sec. 3.1; v2, arXiv:1606.00915, Sec. 3.1).

    Five blocks ``layer1``..``layer5`` of 3x3 convs (2, 2, 3, 3, 3 convs of 64, 128, 256, 512, 512 channels, each
    with ReLU), each followed by a max-pool ``pool1``..``pool5``. As in the released DeepLab prototxts every pool is
    3x3 with padding 1 (VGG's are 2x2). At ``output_stride=8``, the papers' form, pool1-3 have stride 2, pool4 and
    pool5 stride 1, and the conv5 block is atrous with dilation 2 (the paper's "hole" algorithm), so a 321x321
    crop gives 41x41 maps. 16 restores pool4's stride and drops the dilation; 32 (and None, as for every
    backbone) is the undilated ImageNet network with all five pools at stride 2. The DeepLab v1/v2 configs say
    ``model.output_stride=8``.
    Pooling rounds down, so a stride-2 pool maps H to ceil(H / 2) (Caffe rounds up; both give 161, 81, 41 for
    the papers' 321 crops).

    fc6/fc7 are not part of the backbone: the DeepLab heads build them as convolutions (:class:`LargeFOVHead`,
    :class:`LogitSumASPPHead`).

    Args:
        in_channels: bands of the input image; pretrained RGB weights of the first conv are expanded to them
            (:mod:`~segkit.models.backbones.input_channels`).
        output_stride: 8 (the papers' form), 16 or 32 (:func:`~segkit.models.output_stride.atrous_schedule`);
            None (default): the undilated network, output stride 32.
        base_channels: width of the first block; the blocks have 1, 2, 4, 8, 8 times as many channels.
        out_indices: blocks whose pooled outputs ``forward`` returns (0 = pool1 ... 4 = pool5).
        frozen_stages: -1 and 0 freeze nothing (VGG has no stem), ``n`` freezes the first ``n`` blocks.
        norm_eval: keep every BN layer in eval mode during ``train()`` (with ``norm_cfg``).
        norm_cfg: None for the paper's plain VGG-16; ``dict(type='BN')`` for the vgg16_bn variant.
        act_cfg: activation after every conv.
        init_cfg: mmengine init config. With ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` the file may
            be torchvision's ImageNet ``vgg16`` (``vgg16_bn`` with ``norm_cfg``) weights, converted on the fly (see
            :mod:`segkit.models.backbones.convert_vgg`), or a segkit state_dict.

    ``forward(x)`` returns a tuple with one feature map per entry of ``out_indices``.
    """

    first_conv = 'layer1.0.conv.weight'  # its RGB ImageNet weight is expanded to in_channels on load

    def __init__(self, in_channels: int = 3, output_stride: Optional[int] = None, base_channels: int = 64,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4), frozen_stages: int = -1, norm_eval: bool = False,
                 norm_cfg: Optional[dict] = None, act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Union[dict, List[dict], None] = None):
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg=init_cfg)
        self.set_in_channels(in_channels)
        num_stages = len(VGG16_STAGE_CONVS)
        schedule = atrous_schedule('VGG16', POOL_STRIDES, 1, output_stride)
        self.output_stride = reached_output_stride(1, [step.stride for step in schedule])
        if base_channels < 1:
            raise ValueError(f'VGG16: base_channels={base_channels} must be >= 1')
        self.out_indices = check_indices('out_indices', out_indices, num_stages)
        self.frozen_stages = check_frozen_stages(frozen_stages, num_stages)
        self.norm_eval = norm_eval
        norm_cfg, act_cfg = copy.deepcopy(norm_cfg), copy.deepcopy(act_cfg)

        widths = tuple(base_channels * m for m in (1, 2, 4, 8, 8))
        self.stage_names: List[str] = []
        channels = in_channels
        for i, (convs, width, step) in enumerate(zip(VGG16_STAGE_CONVS, widths, schedule)):
            dilation = step.rate_in  # the block's convs come before its pool: the rate of the pools before
            # bias=True with BN too: torchvision's vgg16_bn convs keep their biases
            self.add_module(f'layer{i + 1}', nn.Sequential(*[
                ConvModule(channels if j == 0 else width, width, 3, padding=dilation, dilation=dilation, bias=True,
                           norm_cfg=norm_cfg, act_cfg=act_cfg) for j in range(convs)]))
            self.add_module(f'pool{i + 1}', nn.MaxPool2d(kernel_size=3, stride=step.stride, padding=1))
            self.stage_names.append(f'layer{i + 1}')
            channels = width
        self.out_channels: Tuple[int, ...] = tuple(widths[i] for i in self.out_indices)
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        freeze([getattr(self, name) for name in self.stage_names[:max(self.frozen_stages, 0)]])

    def load_pretrained(self, checkpoint: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> List[str]:
        """Load weights from a torchvision ``vgg16`` / ``vgg16_bn`` file or a segkit one; return the checkpoint keys
        the backbone did not use (for torchvision: ``classifier.*``)."""
        def convert(state_dict):
            if not looks_like_torchvision_vgg16(state_dict):
                return None
            return convert_torchvision_vgg16(state_dict), unused_torchvision_vgg16_keys(state_dict)
        try:
            return load_backbone_weights(self, checkpoint, 'VGG16', convert=convert, prefix=prefix,
                                         map_location=map_location, expected=VGG16_FILE_HINT + '.')
        except FileNotFoundError as exc:
            raise FileNotFoundError(f'VGG16: ImageNet weights {checkpoint} not found. {VGG16_FILE_HINT}; set '
                                    'model.backbone.init_cfg.checkpoint to its path') from exc

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, f'pool{i + 1}')(getattr(self, name)(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
