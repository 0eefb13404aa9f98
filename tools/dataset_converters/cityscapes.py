"""Cityscapes fine annotations -> the 19-class train-id label maps segkit trains on.

    python tools/dataset_converters/cityscapes.py data/cityscapes [--source polygons|labelIds] [--nproc 4]

Reads ``gtFine/<split>/<city>/*_gtFine_polygons.json`` (default; the official annotation, drawn in file order
with the official label table as cityscapesScripts' ``createTrainIdLabelImgs`` does: unlabelled pixels 255,
'<class>group' labels as their class, deleted objects and 'license plate' skipped) or ``*_gtFine_labelIds.png``
(mapped pixel by pixel) from the extracted ``gtFine_trainvaltest.zip``, and writes
``*_gtFine_labelTrainIds.png`` beside each. The table is ``segkit.datasets.cityscapes.CITYSCAPES_LABELS``;
``tools/test.py --out`` maps predictions back to label ids for the benchmark server.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from multiprocessing import Pool
from typing import List, Optional

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from segkit.datasets.cityscapes import CITYSCAPES_LABELS  # noqa: E402

BY_NAME = {label.name: label for label in CITYSCAPES_LABELS}
UNLABELLED = BY_NAME['unlabeled'].train_id
LABEL_ID_TO_TRAIN_ID = np.full(256, UNLABELLED, np.uint8)
for _label in CITYSCAPES_LABELS:
    if _label.label_id >= 0:
        LABEL_ID_TO_TRAIN_ID[_label.label_id] = _label.train_id


def polygons_to_train_ids(json_path: str) -> np.ndarray:
    with open(json_path, encoding='utf-8') as f:
        annotation = json.load(f)
    canvas = Image.new('L', (annotation['imgWidth'], annotation['imgHeight']), UNLABELLED)
    draw = ImageDraw.Draw(canvas)
    for obj in annotation['objects']:
        if obj.get('deleted'):
            continue
        name = obj['label']
        if name not in BY_NAME and name.endswith('group'):  # e.g. 'cargroup': several cars in one polygon
            name = name[:-len('group')]
        if name not in BY_NAME:
            raise KeyError(f'unknown label {obj["label"]!r} in {json_path}; not in the official Cityscapes table')
        label = BY_NAME[name]
        if label.label_id < 0:
            continue
        draw.polygon([tuple(point) for point in obj['polygon']], fill=label.train_id)
    return np.array(canvas)


def label_ids_to_train_ids(png_path: str) -> np.ndarray:
    return LABEL_ID_TO_TRAIN_ID[np.array(Image.open(png_path))]


def convert_one(task) -> None:
    source_path, suffix = task
    train_ids = polygons_to_train_ids(source_path) if suffix.endswith('.json') else label_ids_to_train_ids(source_path)
    Image.fromarray(train_ids).save(source_path[:-len(suffix)] + '_labelTrainIds.png')


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('cityscapes_path', help='the folder holding gtFine/ (and leftImg8bit/)')
    parser.add_argument('--source', choices=['polygons', 'labelIds'], default='polygons')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    suffix = '_polygons.json' if args.source == 'polygons' else '_labelIds.png'
    sources = sorted(glob.glob(osp.join(args.cityscapes_path, 'gtFine', '*', '*', f'*_gtFine{suffix}')))
    if not sources:
        raise FileNotFoundError(f'no gtFine/<split>/<city>/*_gtFine{suffix} under {args.cityscapes_path}; extract '
                                'gtFine_trainvaltest.zip there')
    tasks = [(path, suffix) for path in sources]
    if args.nproc > 1:
        with Pool(args.nproc) as pool:
            pool.map(convert_one, tasks, chunksize=32)
    else:
        for task in tasks:
            convert_one(task)
    print(f'{len(tasks)} *_gtFine_labelTrainIds.png written under {osp.join(args.cityscapes_path, "gtFine")}')
    return len(tasks)


if __name__ == '__main__':
    main()
