"""The ISPRS 2D semantic labelling downloads (Potsdam, Vaihingen) -> MMSegmentation's tiled layout, shared by
``potsdam.py`` and ``vaihingen.py``.

Each orthophoto and its colour-coded label image (read from the zips in place) are cut into the tiles of
``tiling.tile_boxes`` and written as ``img_dir/<split>/<tile id>_<x0>_<y0>_<x1>_<y1>.png`` (the image's channels as
they are) and ``ann_dir/<split>/<same name>`` (grey PNG: 0 for black, the eroded boundaries of the ``noBoundary``
labels, and for any colour outside the table; 1-6 for the classes of ``segkit.datasets.isprs.ISPRS_PALETTE``,
which ``reduce_zero_label`` turns into 0-5 with 0 ignored). The split of each orthophoto is MMSegmentation's.
"""
import argparse
import os
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from archives import closes_archives, find_members, read_image, require_archive  # noqa: E402
from segkit.datasets.colour_masks import colours_to_labels  # noqa: E402
from segkit.datasets.isprs import ISPRS_PALETTE  # noqa: E402
from task_progress import converter_parser, run_tasks  # noqa: E402
from tiling import Box, save_tiles, tile_boxes  # noqa: E402

#: label i+1 for ISPRS_PALETTE[i]; 0 for black (the eroded class boundaries) and unknown colours
LABEL_COLOURS = [[0, 0, 0]] + ISPRS_PALETTE


@dataclass(frozen=True)
class IsprsDownload:
    """What one benchmark's downloads hold: archive names, member name patterns (group ``key``: the orthophoto's
    id), label variants and MMSegmentation's split of the orthophotos."""

    name: str
    image_zip: str
    image_pattern: str
    label_zips: Dict[str, str]  # --labels choice -> archive
    label_patterns: Dict[str, str]
    splits: Dict[str, Tuple[str, ...]]
    out_dir: str


def tile_name(tile_id: str, box: Box) -> str:
    """MMSegmentation's tile name: the orthophoto's id, then the box (``2_10_512_0_1024_512.png``)."""
    return f'{tile_id}_{box[0]}_{box[1]}_{box[2]}_{box[3]}.png'


def tile_pair(task: tuple) -> Tuple[str, int, str]:
    """Cut one orthophoto and its labels into tiles; ``(split, tiles written, warning or '')``."""
    image_zip, image_member, label_zip, label_member, tile_id, split, out_dir, size, stride = task
    image = read_image(image_zip, image_member)
    labels, unmatched = colours_to_labels(read_image(label_zip, label_member)[..., ::-1], LABEL_COLOURS)
    if image.shape[:2] != labels.shape:
        raise ValueError(f'{image_zip}: {image_member} is {image.shape[0]}x{image.shape[1]} but its labels '
                         f'{label_zip}: {label_member} are {labels.shape[0]}x{labels.shape[1]} (HxW)')
    boxes = tile_boxes(labels.shape[0], labels.shape[1], size, stride)
    for folder, array in (('img_dir', image), ('ann_dir', labels)):
        save_tiles(array, boxes, lambda box: osp.join(out_dir, folder, split, tile_name(tile_id, box)))
    warning = (f'{label_member}: {unmatched} pixels of colours outside the ISPRS table became 0 (ignored)'
               if unmatched else '')
    return split, len(boxes), warning


def plan_tasks(download: IsprsDownload, args: argparse.Namespace) -> List[tuple]:
    """One task per orthophoto of the splits, its labels found; the others named and skipped."""
    image_zip = require_archive(args.download_dir, args.image_zip or download.image_zip,
                                f'the {download.name} orthophotos')
    label_zip = require_archive(args.download_dir, download.label_zips[args.labels],
                                f'the {download.name} labels chosen by --labels {args.labels} (the other choice '
                                f'reads {", ".join(z for k, z in download.label_zips.items() if k != args.labels)})')
    images = find_members(image_zip, download.image_pattern)
    labels = find_members(label_zip, download.label_patterns[args.labels])
    if not images:
        raise FileNotFoundError(f'{image_zip} holds no orthophoto named like {download.image_pattern!r}; is it '
                                f'the {download.name} download?')
    split_of = {tile_id: split for split, ids in download.splits.items() for tile_id in ids}
    unknown = sorted(set(images) - set(split_of))
    if unknown:
        print(f'warning: {len(unknown)} orthophotos are in neither split and are skipped: {", ".join(unknown)}',
              file=sys.stderr)
    unlabelled = sorted(set(images) & set(split_of) - set(labels))
    if unlabelled:
        raise FileNotFoundError(f'{label_zip} has no labels for the orthophotos {", ".join(unlabelled)} of '
                                f'{image_zip}; expected members named like {download.label_patterns[args.labels]!r}')
    return [(image_zip, images[t], label_zip, labels[t], t, split_of[t], args.out_dir, args.tile_size,
             args.stride or args.tile_size) for t in sorted(set(images) & set(split_of))]


def parse_args(download: IsprsDownload, doc: str, argv: Optional[List[str]]) -> argparse.Namespace:
    """The command line of ``potsdam.py`` / ``vaihingen.py``."""
    parser = converter_parser(doc, f'the folder holding {download.image_zip} and the label zip', download.out_dir,
                              'where img_dir/ and ann_dir/ go')
    parser.add_argument('--labels', choices=sorted(download.label_zips), default='noBoundary',
                        help='noBoundary: eroded labels (MMSegmentation\'s choice); all: full labels')
    parser.add_argument('--image-zip', help=f'the orthophoto archive (default {download.image_zip})')
    parser.add_argument('--tile-size', type=int, default=512, help='tile side in pixels')
    parser.add_argument('--stride', type=int,
                        help='pixels between tile starts (default: the tile size, what MMSegmentation writes)')
    return parser.parse_args(argv)


@closes_archives
def main(download: IsprsDownload, doc: str, argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Convert one benchmark's downloads; the number of tiles written per split."""
    args = parse_args(download, doc, argv)
    tasks = plan_tasks(download, args)
    for folder in ('img_dir', 'ann_dir'):
        for split in download.splits:
            os.makedirs(osp.join(args.out_dir, folder, split), exist_ok=True)
    results = run_tasks(tile_pair, tasks, args.nproc, f'Tiling {download.name}')
    counts = {split: 0 for split in download.splits}
    for split, tiles, warning in sorted(results):
        counts[split] += tiles
        if warning:
            print(f'warning: {warning}', file=sys.stderr)
    print(', '.join(f'{n} {split} tiles' for split, n in counts.items()) + f' written under {args.out_dir}')
    return counts
