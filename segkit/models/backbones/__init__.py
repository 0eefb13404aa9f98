"""Backbones: ResNetV1c, MobileNetV2 and the aligned Xception."""
from .mobilenet_v2 import MobileNetV2
from .resnet import ResNetV1c
from .xception import Xception

__all__ = ['ResNetV1c', 'MobileNetV2', 'Xception']
