"""Datasets: SegDataset and the datasets built on it (registered in segkit.registry.DATASETS)."""
from .base import SegDataset
from .camvid import CamVidDataset
from .cityscapes import CityscapesDataset
from .folder import FolderSegDataset
from .hard_image_repeat import HardImageRepeatDataset
from .shapes import ShapesDataset
from .shapes_generator import SHAPE_CLASSES, generate_shapes
from .voc import PascalVOCDataset

__all__ = ['SegDataset', 'PascalVOCDataset', 'CityscapesDataset', 'CamVidDataset', 'FolderSegDataset',
           'ShapesDataset', 'generate_shapes', 'SHAPE_CLASSES', 'HardImageRepeatDataset']
