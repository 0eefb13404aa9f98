from .aspp import ASPP
from .aspp_conv_head import ASPPConvHead
from .aspp_head import ASPPHead, DepthwiseSeparableASPPHead
from .decode_head import DecodeHead
from .decoder import DeepLabV3PlusDecoder
from .fcn_head import FCNHead
from .largefov_head import LargeFOVHead
from .logit_sum_aspp_head import LogitSumASPPHead

__all__ = ['ASPP', 'ASPPConvHead', 'ASPPHead', 'DecodeHead', 'DeepLabV3PlusDecoder', 'DepthwiseSeparableASPPHead',
           'FCNHead', 'LargeFOVHead', 'LogitSumASPPHead']
