"""ShapesDataset: the built-in demo dataset, generated on first use."""
from typing import Dict, Optional

from segkit.registry import DATASETS
from .base import SegDataset
from .shapes_generator import SHAPE_CLASSES, SHAPE_PALETTE, generate_shapes


@DATASETS.register_module()
class ShapesDataset(SegDataset):
    """Procedural scenes of overlapping shapes (disk, square, triangle, ring, cross) on a cluttered background.

    When the dataset is first listed (``full_init``, not at construction, so ``lazy_init=True`` touches no
    file) :func:`generate_shapes` writes ``num_train`` + ``num_val`` scenes of ``img_size`` pixels under
    ``data_root`` unless they are already there. Pick the split with ``data_prefix``::

        dict(type='ShapesDataset', data_root='data/shapes',
             data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'))

    Set ``generate=False`` to only read what is on disk.
    """

    METAINFO = dict(classes=SHAPE_CLASSES, palette=SHAPE_PALETTE)

    def __init__(self,
                 *,
                 data_root: str = 'data/shapes',
                 data_prefix: Optional[Dict[str, str]] = None,
                 num_train: int = 400,
                 num_val: int = 80,
                 img_size: int = 128,
                 seed: int = 0,
                 generate: bool = True,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        if not data_root:
            raise ValueError("ShapesDataset needs a data_root folder to generate into, e.g. 'data/shapes'.")
        self.generation = dict(num_train=num_train, num_val=num_val, size=img_size, seed=seed)
        self.generate = generate
        if data_prefix is None:
            data_prefix = dict(img_path='img_dir/train', seg_map_path='ann_dir/train')
        super().__init__(data_root=data_root, data_prefix=data_prefix, img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> list:
        if self.generate:
            generate_shapes(self.data_root, **self.generation)
        return super().load_data_list()
