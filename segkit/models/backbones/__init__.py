"""Backbones: ResNetV1c and MobileNetV2."""
from .mobilenet_v2 import MobileNetV2
from .resnet import ResNetV1c

__all__ = ['ResNetV1c', 'MobileNetV2']
