"""PASCAL-Context full annotations -> the 59-class label maps and lists segkit trains on (no Detail API needed).

    python tools/dataset_converters/pascal_context.py data/VOCdevkit data/pascal_context [--nproc 4]

Inputs are the official downloads, extracted: VOC 2010's VOCtrainval_03-May-2010.tar (``VOCdevkit/VOC2010`` with
``JPEGImages`` and ``ImageSets/Main/{train,val}.txt``) and PASCAL-Context's ``trainval.tar.gz`` (Mottaghi et al.,
CVPR 2014: ``trainval/<image id>.mat``, each holding a uint16 ``LabelMap`` of the 459-class label set, 0 where
unlabelled) with its ``labels.txt`` (lines ``<id>: <name>``) beside ``trainval/``. Writes

- ``VOC2010/SegmentationClassContext/*.png``: grey PNGs, 1-59 for the classes of
  ``segkit.datasets.pascal_context.PASCAL_CONTEXT59_CLASSES`` in that order (found by name in ``labels.txt``), 0 for
  the other 400 classes and unlabelled pixels. ``PascalContextDataset59`` (``reduce_zero_label``) trains on them as
  0-58 with 0 ignored, as MMSegmentation's converter and dataset do; read without ``reduce_zero_label`` they are
  the 60-class variant (background + 59);
- ``VOC2010/ImageSets/SegmentationContext/{train,val}.txt``: VOC 2010's ``ImageSets/Main/{train,val}.txt``
  (4998 / 5105 images, the split of the PASCAL-Context paper and of the Detail API), the lists
  ``configs/_base_/datasets/pascal_context_59.py`` reads.

Reading the .mat files needs scipy (``pip install scipy``, or segkit's ``optional`` extra).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from segkit.datasets.pascal_context import PASCAL_CONTEXT59_CLASSES  # noqa: E402

SPLIT_SIZES = dict(train=4998, val=5105)
OTHER = 0  # the 400 other classes and unlabelled pixels; reduce_zero_label makes it the ignore index


def read_labels(path: str) -> Dict[int, str]:
    """``labels.txt`` of the full label set: ``{id: name}`` from lines ``<id>: <name>``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist; it is the 459-class labels.txt of the PASCAL-Context '
                                'download (lines "<id>: <name>"); pass its path with --labels')
    labels = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            label_id, sep, name = line.partition(':')
            if not sep or not label_id.strip().isdigit():
                raise ValueError(f'{path}, line {number}: {line.strip()!r} is not "<id>: <name>"')
            labels[int(label_id)] = name.strip()
    return labels


def context59_lookup(labels: Dict[int, str], labels_path: str) -> np.ndarray:
    """A table from every uint16 full-set id to its 59-class label (1-59), ``OTHER`` for the rest."""
    ids_by_name: Dict[str, List[int]] = {}
    for label_id, name in labels.items():
        ids_by_name.setdefault(name, []).append(label_id)
    missing = [name for name in PASCAL_CONTEXT59_CLASSES if name not in ids_by_name]
    if missing:
        raise KeyError(f'{labels_path} lacks the class names {missing}; give the 459-class labels.txt of the '
                       'PASCAL-Context download, whose names include all of PascalContextDataset59\'s classes')
    lookup = np.full(np.iinfo(np.uint16).max + 1, OTHER, np.uint8)
    for train_label, name in enumerate(PASCAL_CONTEXT59_CLASSES, 1):
        lookup[ids_by_name[name]] = train_label
    return lookup


def read_label_map(mat_path: str) -> np.ndarray:
    """The full-set ``LabelMap`` of one ``trainval/<image id>.mat``."""
    try:
        from scipy.io import loadmat
    except ImportError as err:
        raise ImportError('reading PASCAL-Context .mat files needs scipy: pip install scipy') from err
    mat = loadmat(mat_path)
    if 'LabelMap' not in mat:
        raise KeyError(f'{mat_path} has no LabelMap (keys: {sorted(k for k in mat if not k.startswith("__"))}); '
                       "the label files are trainval/*.mat of PASCAL-Context's trainval.tar.gz")
    label_map = mat['LabelMap']
    if label_map.dtype.kind not in 'ui' or label_map.ndim != 2:
        raise TypeError(f'{mat_path}: LabelMap is a {label_map.ndim}-D {label_map.dtype} array; expected the 2-D '
                        'uint16 map of full-set class ids')
    return label_map


def convert_one(task) -> None:
    name, mat_dir, img_dir, out_dir, lookup = task
    mat_path = osp.join(mat_dir, name + '.mat')
    label_map = read_label_map(mat_path)
    img_path = osp.join(img_dir, name + '.jpg')
    with Image.open(img_path) as img:  # reads the header only
        width, height = img.size
    if label_map.shape != (height, width):
        raise ValueError(f'{mat_path}: LabelMap is {label_map.shape[0]}x{label_map.shape[1]} but {img_path} is '
                         f'{height}x{width}; the images must be those of VOC 2010')
    Image.fromarray(lookup[label_map]).save(osp.join(out_dir, name + '.png'))  # 2-D uint8: a grey PNG


def read_split(path: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist; extract VOC 2010 (VOCtrainval_03-May-2010.tar) so that '
                                'VOCdevkit/VOC2010/ImageSets/Main holds train.txt and val.txt')
    with open(path, encoding='utf-8') as f:
        return [line.split()[0] for line in f if line.strip()]


def check_present(names: List[str], folder: str, suffix: str, what: str) -> None:
    absent = [name for name in names if not osp.isfile(osp.join(folder, name + suffix))]
    if absent:
        shown = ', '.join(name + suffix for name in absent[:5]) + (' ...' if len(absent) > 5 else '')
        raise FileNotFoundError(f'{len(absent)} of {len(names)} listed images have no {what} in {folder}: {shown}')


def main(argv: Optional[List[str]] = None) -> Dict[str, List[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('devkit_path', help='the VOCdevkit folder (holding VOC2010/)')
    parser.add_argument('context_path', help="the extracted trainval.tar.gz of PASCAL-Context (holding trainval/)")
    parser.add_argument('--labels', help='the 459-class labels.txt (default: CONTEXT_PATH/labels.txt)')
    parser.add_argument('--out-dir', default='SegmentationClassContext', help='label folder inside VOC2010/')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)

    voc_dir = osp.join(args.devkit_path, 'VOC2010')
    img_dir, mat_dir = osp.join(voc_dir, 'JPEGImages'), osp.join(args.context_path, 'trainval')
    labels_path = args.labels or osp.join(args.context_path, 'labels.txt')
    lookup = context59_lookup(read_labels(labels_path), labels_path)
    splits = {split: read_split(osp.join(voc_dir, 'ImageSets', 'Main', f'{split}.txt')) for split in SPLIT_SIZES}
    names = sorted(set(splits['train']) | set(splits['val']))
    check_present(names, mat_dir, '.mat', 'PASCAL-Context label file')
    check_present(names, img_dir, '.jpg', 'VOC 2010 image')

    out_dir = osp.join(voc_dir, args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    tasks = [(name, mat_dir, img_dir, out_dir, lookup) for name in names]
    if args.nproc > 1:
        track_parallel_progress(convert_one, tasks, args.nproc, chunksize=32, keep_order=False)
    else:
        track_progress(convert_one, tasks)
    print(f'{len(tasks)} label maps written to {out_dir}')

    list_dir = osp.join(voc_dir, 'ImageSets', 'SegmentationContext')
    os.makedirs(list_dir, exist_ok=True)
    for split, split_names in splits.items():
        with open(osp.join(list_dir, f'{split}.txt'), 'w', encoding='utf-8') as f:
            f.writelines(name + '\n' for name in split_names)
        print(f'{len(split_names)} names written to {osp.join(list_dir, split + ".txt")}', flush=True)
        if len(split_names) != SPLIT_SIZES[split]:
            print(f'warning: VOC 2010 {split}.txt has {SPLIT_SIZES[split]} names in the full download, this one '
                  f'{len(split_names)}', file=sys.stderr)
    return splits


if __name__ == '__main__':
    main()
