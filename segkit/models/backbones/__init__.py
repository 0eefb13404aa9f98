"""Backbones: ResNetV1c / ResNetV1b, MobileNetV2 / MobileNetV3 and the aligned Xception."""
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3
from .resnet import ResNetV1c
from .resnet_v1b import ResNetV1b
from .xception import Xception

__all__ = ['ResNetV1c', 'ResNetV1b', 'MobileNetV2', 'MobileNetV3', 'Xception']
