from mmengine.structures import PixelData

from .seg_data_sample import SegDataSample

__all__ = ['SegDataSample', 'PixelData']
