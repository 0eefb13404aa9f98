"""SegDataset: pairs images with their label masks, MMSegmentation 1.x style."""
import os
import os.path as osp
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset, Compose

from segkit.registry import DATASETS, TRANSFORMS
from .colour_masks import UNKNOWN_COLOUR_CHOICES, dataset_colour_table
from .decoded_cache import DecodedCache, DecodedCacheConfig, loading_prefix


def random_palette(num_classes: int, seed: int = 42) -> List[List[int]]:
    """A fixed pseudo-random RGB palette for datasets that do not define one."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(num_classes, 3)).tolist()


class SampleListing(NamedTuple):
    """What the dataset's folders and list file hold: the image / mask pairs found, and what is missing."""

    pairs: List[dict]  # dict(img_path, seg_map_path) of every image found
    missing_images: List[str]  # images that ann_file names but that do not exist
    missing_masks: List[Tuple[str, str]]  # (image, expected mask) without the mask


@DATASETS.register_module()
class SegDataset(BaseDataset):
    """Semantic segmentation dataset: images under ``data_prefix['img_path']``, masks under
    ``data_prefix['seg_map_path']`` with the same relative name (``name + img_suffix`` pairs with
    ``name + seg_map_suffix``).

    Samples come from ``ann_file`` (a text file of names without suffix, one per line, relative to the image
    folder) or, without it, from listing the image folder recursively (sorted). Leave ``seg_map_path`` out of
    ``data_prefix`` for images without masks (inference).

    ``metainfo=dict(classes=..., palette=...)`` overrides the class's ``METAINFO``; a subset of the default
    classes trains on that subset only: the other classes' labels become ``ignore_index``. ``label_map`` maps
    raw mask values to train ids (applied after ``reduce_zero_label``, which turns 0 into ``ignore_index`` and
    shifts the rest down by one).

    Each sample dict from :meth:`get_data_info` carries ``img_path``, ``seg_map_path``, ``label_map``,
    ``reduce_zero_label``, ``seg_fields``, ``num_classes``, ``ignore_index``, ``colour_table`` and
    ``unknown_colour`` for the pipeline; ``LoadAnnotations`` uses ``num_classes`` and ``ignore_index`` to reject
    masks with labels the model cannot learn.

    Colour-coded (RGB) masks are read directly with ``colour_masks``: ``True`` takes the dataset's palette in raw
    label order (the class's own ``METAINFO`` palette, e.g. CamVid's, or for SegDataset / FolderSegDataset the
    palette the config gives), a list of ``[r, g, b]`` gives the colour of raw label 0, 1, ...; each colour becomes
    its raw label, then ``reduce_zero_label`` and ``label_map`` apply as for index masks. A pixel of another colour
    is an error naming the file, the colour and its pixel count, or ``ignore_index`` with
    ``unknown_colour='ignore'``.

    ``decoded_cache=dict(max_mib=2048)`` runs the pipeline's leading loading steps once per sample when the data
    is listed and keeps the decoded arrays in shared memory (shared with the DataLoader's workers): each
    ``dataset[i]`` then runs only the steps after them. Over ``max_mib`` it logs why and reads the files as
    without it (:mod:`segkit.datasets.decoded_cache`).

    With ``lazy_init=True`` building the object touches no file; :meth:`full_init` (run by the Runner, or on
    first use) lists the data.
    """

    METAINFO: dict = dict(classes=None, palette=None)

    def __init__(self,
                 *,
                 data_root: str = '',
                 data_prefix: Optional[Dict[str, str]] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 ann_file: str = '',
                 metainfo: Optional[dict] = None,
                 ignore_index: int = 255,
                 reduce_zero_label: bool = False,
                 label_map: Optional[Dict[int, int]] = None,
                 colour_masks: Union[bool, Sequence[Sequence[int]]] = False,
                 unknown_colour: str = 'error',
                 decoded_cache: Union[None, bool, dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 max_refetch: int = 1000) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='', seg_map_path='')
        unknown = set(data_prefix) - {'img_path', 'seg_map_path'}
        if unknown:
            raise KeyError(f'{type(self).__name__}: data_prefix has unknown keys {sorted(unknown)}; '
                           "use dict(img_path='<image folder>', seg_map_path='<mask folder>').")
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.ignore_index = ignore_index
        self.reduce_zero_label = reduce_zero_label
        if unknown_colour not in UNKNOWN_COLOUR_CHOICES:
            raise ValueError(f'{type(self).__name__}: unknown_colour={unknown_colour!r}; choose '
                             f"{' or '.join(map(repr, UNKNOWN_COLOUR_CHOICES))} (what a mask colour outside the "
                             'palette becomes)')
        self.unknown_colour = unknown_colour
        self.decoded_cache_cfg = DecodedCacheConfig.parse(decoded_cache, type(self).__name__)
        self._decoded: Optional[DecodedCache] = None
        # Built with segkit's registry so that segkit's transforms resolve even without default_scope='segkit'.
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=dict(data_prefix),
                         filter_cfg=filter_cfg, indices=indices, serialize_data=serialize_data,
                         pipeline=pipeline, test_mode=test_mode, lazy_init=True, max_refetch=max_refetch)
        palette_given = bool((metainfo or {}).get('palette')) or bool(self.METAINFO.get('palette'))
        self._resolve_metainfo(label_map)
        self.colour_table = dataset_colour_table(type(self).__name__, colour_masks, self.METAINFO.get('palette'),
                                                 self._metainfo['palette'] if palette_given else None)
        self._num_loading = loading_prefix(self.pipeline.transforms)
        if not self.pipeline.transforms:  # the label tools list samples and read the files themselves: nothing to cache
            self.decoded_cache_cfg = None
        if self.decoded_cache_cfg is not None and not self._num_loading:
            raise ValueError(f'{type(self).__name__}: decoded_cache caches what the loading steps at the head of the '
                             'pipeline read (LoadImageFromFile, LoadAnnotations, LoadMultiBandImage), but the pipeline '
                             f'starts with {self.pipeline.transforms[0]}. '
                             'Put the loading steps first, or drop decoded_cache.')
        self._after_loading = Compose(self.pipeline.transforms[self._num_loading:])
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------------------------------ decoded cache
    def full_init(self) -> None:
        """List the data and, with ``decoded_cache``, decode every sample once into shared memory."""
        if self._fully_initialized:
            return
        super().full_init()
        if self.decoded_cache_cfg is not None:
            load = Compose(self.pipeline.transforms[:self._num_loading])
            self._decoded = DecodedCache.build(self.get_data_info, len(self), load,
                                               self.decoded_cache_cfg.max_mib, type(self).__name__)

    def prepare_data(self, idx: int):
        """The pipeline's output for sample ``idx``; from the decoded cache when there is one."""
        if self._decoded is None:
            return super().prepare_data(idx)
        results = self._decoded.restore(idx, self.get_data_info(idx))
        if results is None:  # the sample list changed after the cache was built (get_subset): read the files
            return super().prepare_data(idx)
        return self._after_loading(results)

    # ----------------------------------------------------------------------------------------------- metainfo
    def _resolve_metainfo(self, label_map: Optional[Dict[int, int]]) -> None:
        name = type(self).__name__
        classes = self._metainfo.get('classes')
        if not classes:
            raise ValueError(f'{name} needs class names: pass metainfo=dict(classes=[...]) (and optionally '
                             'palette=[[r, g, b], ...]).')
        classes = tuple(classes)
        default_classes = self.METAINFO.get('classes')
        default_palette = self.METAINFO.get('palette')
        merged_map: Dict[int, int] = {}
        palette = self._metainfo.get('palette')
        if default_classes and classes != tuple(default_classes):
            missing = [c for c in classes if c not in default_classes]
            if missing:
                raise ValueError(f'{name}: metainfo classes {missing} are not among its classes '
                                 f'{list(default_classes)}; give a subset of them (or use SegDataset/'
                                 'FolderSegDataset for a different class list).')
            for old_id, cls in enumerate(default_classes):
                merged_map[old_id] = classes.index(cls) if cls in classes else self.ignore_index
            if palette is None or palette == default_palette:
                palette = [default_palette[default_classes.index(c)] for c in classes] if default_palette else None
        merged_map.update(label_map or {})
        if palette is None:
            palette = random_palette(len(classes))
        if len(palette) != len(classes):
            raise ValueError(f'{name}: palette has {len(palette)} colours for {len(classes)} classes; give one '
                             '[r, g, b] per class.')
        self.label_map = {int(k): int(v) for k, v in merged_map.items()} or None
        self._metainfo.update(classes=classes, palette=[list(map(int, c)) for c in palette],
                              label_map=self.label_map, reduce_zero_label=self.reduce_zero_label,
                              ignore_index=self.ignore_index)

    @property
    def num_classes(self) -> int:
        return len(self._metainfo['classes'])

    # -------------------------------------------------------------------------------------------- sample list
    def get_data_info(self, idx: int) -> dict:
        """The idx-th sample with the dataset-wide keys the pipeline needs."""
        info = super().get_data_info(idx)
        info.update(label_map=self.label_map, reduce_zero_label=self.reduce_zero_label, seg_fields=[],
                    num_classes=self.num_classes, ignore_index=self.ignore_index, colour_table=self.colour_table,
                    unknown_colour=self.unknown_colour)
        return info

    def load_data_list(self) -> List[dict]:
        """List ``dict(img_path, seg_map_path)`` for every sample; a missing image or mask is an error."""
        listing = self.list_samples()
        if listing.missing_images:
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(listing.missing_images)} names in {self.ann_file} have no image, e.g. '
                f"{listing.missing_images[0]}; check data_prefix['img_path'] and img_suffix='{self.img_suffix}'.")
        missing = listing.missing_masks
        if missing:
            shown = '\n'.join(f'  image {i} -> expected mask {s}' for i, s in missing[:5])
            more = f'\n  ... and {len(missing) - 5} more' if len(missing) > 5 else ''
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(missing)} of {len(listing.pairs)} images have no mask:\n{shown}'
                f"{more}\nCheck data_prefix['seg_map_path'] and seg_map_suffix='{self.seg_map_suffix}'.")
        return listing.pairs

    def list_samples(self) -> SampleListing:
        """The samples of ``ann_file`` (or of the image folder) with what is missing, without raising for it
        (``tools/misc/check_dataset.py`` reports it; :meth:`load_data_list` refuses it)."""
        img_dir = self.data_prefix.get('img_path', '')
        seg_dir = self.data_prefix.get('seg_map_path') or None
        names = self._names_from_ann_file() if self.ann_file else self._names_from_folder(img_dir)
        pairs, missing_images, missing_masks = [], [], []
        for name in names:
            img_path = osp.join(img_dir, name + self.img_suffix)
            if not osp.isfile(img_path):
                missing_images.append(img_path)
                continue
            seg_path = osp.join(seg_dir, name + self.seg_map_suffix) if seg_dir else None
            if seg_path is not None and not osp.isfile(seg_path):
                missing_masks.append((img_path, seg_path))
            pairs.append(dict(img_path=img_path, seg_map_path=seg_path))
        return SampleListing(pairs, missing_images, missing_masks)

    def _names_from_ann_file(self) -> List[str]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'{type(self).__name__}: ann_file {self.ann_file} does not exist (it is joined '
                                    f"to data_root='{self.data_root}'); give a text file of image names or "
                                    'ann_file=\'\' to list the image folder.')
        with open(self.ann_file, encoding='utf-8') as f:
            names = [self.name_from_ann_line(line.strip()) for line in f if line.strip()]
        if not names:
            raise ValueError(f'{type(self).__name__}: ann_file {self.ann_file} lists no names; give one image name '
                             "(relative, without suffix) per line, or ann_file='' to list the image folder.")
        return names

    def name_from_ann_line(self, line: str) -> str:
        """The sample name a line of ``ann_file`` gives: the line itself (subclasses read other list formats)."""
        return line

    def _names_from_folder(self, img_dir: str) -> List[str]:
        folder = img_dir or '.'
        if not osp.isdir(folder):
            raise FileNotFoundError(f"{type(self).__name__}: image folder '{folder}' does not exist (data_root="
                                    f"'{self.data_root}', data_prefix['img_path'] joined to it). Put the data "
                                    'there or fix data_root / data_prefix in the config.')
        names = []
        for root, dirs, files in os.walk(folder, followlinks=True):
            dirs.sort()
            rel_root = osp.relpath(root, folder)
            for file in files:
                if file.endswith(self.img_suffix):
                    rel = file if rel_root == '.' else osp.join(rel_root, file)
                    names.append(rel[:len(rel) - len(self.img_suffix)])
        if not names:
            raise FileNotFoundError(f"{type(self).__name__}: no files ending in '{self.img_suffix}' under "
                                    f"'{folder}'; check img_suffix and data_prefix['img_path'].")
        return sorted(names)
