"""Backbones: ResNetV1c, MobileNetV2 and DeepLab's VGG16."""
from .mobilenet_v2 import MobileNetV2
from .resnet import ResNetV1c
from .vgg import VGG16

__all__ = ['ResNetV1c', 'MobileNetV2', 'VGG16']
