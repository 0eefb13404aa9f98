"""PASCAL VOC 2012 + SBD -> the "trainaug" set of the DeepLab papers (10,582 training images).

    python tools/dataset_converters/voc_aug.py data/VOCdevkit data/benchmark_RELEASE [--nproc 4]

Inputs are the official downloads, extracted: VOCtrainval_11-May-2012.tar (``VOCdevkit/VOC2012``) and SBD's
benchmark.tgz (``benchmark_RELEASE/dataset/{cls/*.mat, train.txt, val.txt}``, Hariharan et al. 2011). Writes

- ``VOC2012/SegmentationClassAug/*.png``: grey PNGs of class indices (255 = void) for every SBD image, from the
  ``GTcls.Segmentation`` field of SBD's ``cls/<name>.mat``, and VOC's own label map wherever VOC has one
  (``SegmentationClass``, finer and with void outlines; ``--prefer-sbd`` keeps SBD's there instead);
- ``VOC2012/ImageSets/Segmentation/aug.txt``: SBD train + SBD val + VOC train, minus VOC val (10,582 names for the
  full downloads), the list ``configs/_base_/datasets/pascal_voc12_aug.py`` trains on.
"""
import argparse
import os
import os.path as osp
import sys
from multiprocessing import Pool
from typing import List, Optional

import numpy as np
from PIL import Image

TRAINAUG_SIZE = 10582


def read_list(path: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist; check the extracted download (see this script\'s --help)')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def sbd_label_map(mat_path: str) -> np.ndarray:
    """The class-index map of one SBD ``cls/*.mat`` file (its ``GTcls`` struct's ``Segmentation`` field)."""
    try:
        from scipy.io import loadmat
    except ImportError as err:
        raise ImportError('reading SBD .mat files needs scipy: pip install scipy') from err
    mat = loadmat(mat_path, squeeze_me=True, struct_as_record=False)
    if 'GTcls' not in mat or not hasattr(mat['GTcls'], 'Segmentation'):
        raise KeyError(f'{mat_path} has no GTcls.Segmentation; SBD class labels are the cls/*.mat files '
                       '(inst/*.mat hold instances)')
    return np.asarray(mat['GTcls'].Segmentation, dtype=np.uint8)


def convert_one(task) -> None:
    name, sbd_dir, voc_dir, out_dir, prefer_sbd = task
    voc_png = osp.join(voc_dir, 'SegmentationClass', name + '.png')
    sbd_mat = osp.join(sbd_dir, 'cls', name + '.mat')
    if osp.isfile(voc_png) and not (prefer_sbd and osp.isfile(sbd_mat)):
        labels = np.array(Image.open(voc_png))  # a palette PNG: its pixel values are the class indices
    else:
        labels = sbd_label_map(sbd_mat)
    Image.fromarray(labels.astype(np.uint8)).save(osp.join(out_dir, name + '.png'))  # 2-D uint8: a grey PNG


def find_sbd_dataset(aug_path: str) -> str:
    for candidate in (aug_path, osp.join(aug_path, 'dataset')):
        if osp.isdir(osp.join(candidate, 'cls')):
            return candidate
    raise FileNotFoundError(f'no cls/ folder in {aug_path} or {aug_path}/dataset: pass the extracted SBD '
                            'benchmark_RELEASE folder (or its dataset/ folder)')


def main(argv: Optional[List[str]] = None) -> List[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('devkit_path', help='the VOCdevkit folder (holding VOC2012/)')
    parser.add_argument('aug_path', help="SBD's benchmark_RELEASE folder (holding dataset/cls/*.mat)")
    parser.add_argument('--out-dir', default='SegmentationClassAug', help='label folder inside VOC2012/')
    parser.add_argument('--prefer-sbd', action='store_true',
                        help="use SBD's labels for images that VOC also annotates (default: VOC's own)")
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)

    voc_dir = osp.join(args.devkit_path, 'VOC2012')
    sbd_dir = find_sbd_dataset(args.aug_path)
    lists = osp.join(voc_dir, 'ImageSets', 'Segmentation')
    voc_train, voc_val = read_list(osp.join(lists, 'train.txt')), read_list(osp.join(lists, 'val.txt'))
    sbd_names = read_list(osp.join(sbd_dir, 'train.txt')) + read_list(osp.join(sbd_dir, 'val.txt'))
    out_dir = osp.join(voc_dir, args.out_dir)
    os.makedirs(out_dir, exist_ok=True)

    names = sorted(set(sbd_names) | set(voc_train))
    tasks = [(name, sbd_dir, voc_dir, out_dir, args.prefer_sbd) for name in names]
    with Pool(args.nproc) if args.nproc > 1 else _Serial() as pool:
        for done, _ in enumerate(pool.imap_unordered(convert_one, tasks, chunksize=64), 1):
            if done % 1000 == 0 or done == len(tasks):
                print(f'{done}/{len(tasks)} label maps written to {out_dir}', flush=True)

    trainaug = sorted((set(sbd_names) | set(voc_train)) - set(voc_val))
    with open(osp.join(lists, 'aug.txt'), 'w', encoding='utf-8') as f:
        f.writelines(name + '\n' for name in trainaug)
    print(f'{len(trainaug)} names written to {osp.join(lists, "aug.txt")}')
    if len(voc_val) == 1449 and len(trainaug) != TRAINAUG_SIZE:
        print(f'warning: the full downloads give {TRAINAUG_SIZE} trainaug images, got {len(trainaug)}; check that '
              'SBD train.txt and val.txt are complete', file=sys.stderr)
    return trainaug


class _Serial:
    """The part of ``multiprocessing.Pool`` used above, in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def imap_unordered(func, tasks, chunksize=1):
        return map(func, tasks)


if __name__ == '__main__':
    main()
