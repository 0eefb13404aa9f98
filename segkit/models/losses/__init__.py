from .accuracy import pixel_accuracy
from .base import SegLoss
from .bootstrapped_cross_entropy_loss import BootstrappedCrossEntropyLoss
from .cross_entropy_loss import CrossEntropyLoss
from .dice_loss import DiceLoss
from .focal_loss import FocalLoss
from .lovasz_loss import LovaszLoss, lovasz_gradient
from .probabilities import class_log_probabilities, class_probabilities
from .tversky_loss import TverskyLoss

__all__ = ['BootstrappedCrossEntropyLoss', 'CrossEntropyLoss', 'DiceLoss', 'FocalLoss', 'LovaszLoss', 'SegLoss',
           'TverskyLoss', 'class_log_probabilities', 'class_probabilities', 'lovasz_gradient', 'pixel_accuracy']
