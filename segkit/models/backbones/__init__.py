"""Backbones: ResNetV1c / ResNetV1b, MobileNetV2 / MobileNetV3, the aligned Xception, DeepLab's VGG16 and any timm
model (TimmBackbone)."""
from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3
from .resnet import ResNetV1c
from .resnet_v1b import ResNetV1b
from .timm_backbone import TimmBackbone
from .vgg import VGG16
from .xception import Xception

__all__ = ['ResNetV1c', 'ResNetV1b', 'MobileNetV2', 'MobileNetV3', 'VGG16', 'Xception', 'TimmBackbone']
