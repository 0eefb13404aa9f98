"""Datasets: SegDataset and the datasets built on it (registered in segkit.registry.DATASETS)."""
from .ade import ADE20KDataset
from .base import SegDataset
from .camvid import CamVidDataset
from .cityscapes import CityscapesDataset
from .folder import FolderSegDataset
from .hard_image_repeat import HardImageRepeatDataset
from .pascal_context import PascalContextDataset59
from .shapes import ShapesDataset
from .shapes_generator import SHAPE_CLASSES, generate_shapes
from .voc import PascalVOCDataset

__all__ = ['SegDataset', 'PascalVOCDataset', 'CityscapesDataset', 'CamVidDataset', 'FolderSegDataset',
           'ShapesDataset', 'generate_shapes', 'SHAPE_CLASSES', 'HardImageRepeatDataset', 'ADE20KDataset',
           'PascalContextDataset59']
