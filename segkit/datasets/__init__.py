"""Datasets: SegDataset and the datasets built on it (registered in segkit.registry.DATASETS)."""
from .ade import ADE20KDataset
from .base import SegDataset
from .camvid import CamVidDataset
from .cityscapes import CityscapesDataset
from .coco_stuff import COCOStuffDataset
from .folder import FolderSegDataset
from .hard_image_repeat import HardImageRepeatDataset
from .isaid import iSAIDDataset
from .isprs import ISPRSDataset, PotsdamDataset
from .loveda import LoveDADataset
from .mapillary import MapillaryDataset_v1
from .pascal_context import PascalContextDataset, PascalContextDataset59
from .shapes import ShapesDataset
from .shapes_generator import SHAPE_CLASSES, generate_shapes
from .voc import PascalVOCDataset

__all__ = ['SegDataset', 'PascalVOCDataset', 'CityscapesDataset', 'CamVidDataset', 'FolderSegDataset',
           'ShapesDataset', 'generate_shapes', 'SHAPE_CLASSES', 'HardImageRepeatDataset', 'ADE20KDataset',
           'PascalContextDataset59', 'PascalContextDataset', 'COCOStuffDataset', 'LoveDADataset', 'PotsdamDataset',
           'ISPRSDataset', 'iSAIDDataset', 'MapillaryDataset_v1']
