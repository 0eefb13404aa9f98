from .accuracy import pixel_accuracy
from .cross_entropy_loss import CrossEntropyLoss

__all__ = ['CrossEntropyLoss', 'pixel_accuracy']
