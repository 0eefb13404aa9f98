from .accuracy import pixel_accuracy
from .base import SegLoss
from .bootstrapped_cross_entropy_loss import BootstrappedCrossEntropyLoss
from .cross_entropy_loss import CrossEntropyLoss
from .dice_loss import DiceLoss
from .focal_loss import FocalLoss
from .lovasz_loss import LovaszLoss, lovasz_gradient

__all__ = ['BootstrappedCrossEntropyLoss', 'CrossEntropyLoss', 'DiceLoss', 'FocalLoss', 'LovaszLoss', 'SegLoss',
           'lovasz_gradient', 'pixel_accuracy']
