"""Bootstrapping on hard images (DeepLabv3, arXiv:1706.05587, the VOC test-set experiments): the images that
contain hard classes appear several times per epoch."""
import logging
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, ClassBalancedDataset
from mmengine.logging import print_log

from segkit.registry import DATASETS
from .label_stats import label_histograms


@DATASETS.register_module()
class HardImageRepeatDataset(ClassBalancedDataset):
    """Repeat every image that contains a hard class ``repeat_factor`` times; the others appear once.

    A class is hard when it is named in ``classes`` (names or indices; the paper duplicates VOC's bicycle, chair,
    diningtable, pottedplant and sofa images) or when its frequency is below ``max_class_frequency``, the frequency
    being the share of images that contain it (``frequency='image'``, as LVIS' repeat factor sampling) or its share
    of labelled pixels (``frequency='pixel'``, which finds thin classes such as poles). Each label map is read once,
    at initialisation::

        train_dataloader = dict(dataset=dict(type='HardImageRepeatDataset', dataset=voc_train, repeat_factor=2,
                                             classes=['bicycle', 'chair', 'diningtable', 'pottedplant', 'sofa']))
    """

    def __init__(self, dataset: Union[BaseDataset, dict], *, repeat_factor: int = 2,
                 classes: Optional[Sequence[Union[str, int]]] = None, max_class_frequency: Optional[float] = None,
                 frequency: str = 'image', lazy_init: bool = False):
        if int(repeat_factor) != repeat_factor or repeat_factor < 1:
            raise ValueError(f'HardImageRepeatDataset: repeat_factor must be an integer >= 1, got {repeat_factor}')
        if classes is None and max_class_frequency is None:
            raise ValueError('HardImageRepeatDataset needs classes=[...] or max_class_frequency=... to know which '
                             'classes are hard')
        if frequency not in ('image', 'pixel'):
            raise ValueError(f"HardImageRepeatDataset: frequency must be 'image' or 'pixel', got {frequency!r}")
        self.repeat_factor = int(repeat_factor)
        self.hard_class_names = classes
        self.max_class_frequency = max_class_frequency
        self.frequency = frequency
        super().__init__(dataset, oversample_thr=0.0, lazy_init=lazy_init)

    def hard_classes(self, counts: np.ndarray) -> List[int]:
        """Indices of the hard classes, given the N x C per-image pixel counts."""
        names = list(self.dataset.metainfo['classes'])
        hard = set()
        for cls in self.hard_class_names or ():
            if isinstance(cls, str) and cls not in names:
                raise KeyError(f'HardImageRepeatDataset: class {cls!r} is not among the dataset classes {names}')
            if not isinstance(cls, str) and not 0 <= cls < len(names):
                raise KeyError(f'HardImageRepeatDataset: class index {cls} is outside 0..{len(names) - 1}')
            hard.add(names.index(cls) if isinstance(cls, str) else int(cls))
        if self.max_class_frequency is not None:
            if self.frequency == 'image':
                freq = (counts > 0).mean(axis=0)
            else:
                freq = counts.sum(axis=0) / max(counts.sum(), 1)
            hard.update(int(c) for c in np.flatnonzero((freq > 0) & (freq < self.max_class_frequency)))
        return sorted(hard)

    def _get_repeat_factors(self, dataset: BaseDataset, repeat_thr: float) -> List[int]:
        counts, _ = label_histograms(dataset)
        hard = self.hard_classes(counts)
        is_hard = (counts[:, hard] > 0).any(axis=1) if hard else np.zeros(len(counts), bool)
        self.repeat_factors = [self.repeat_factor if h else 1 for h in is_hard]
        names = [self.dataset.metainfo['classes'][c] for c in hard]
        print_log(f'HardImageRepeatDataset: {int(is_hard.sum())} of {len(counts)} images contain the hard classes '
                  f'{names}; each is repeated {self.repeat_factor}x, {sum(self.repeat_factors)} samples in all',
                  logger='current', level=logging.INFO)
        return self.repeat_factors
