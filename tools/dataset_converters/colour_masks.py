"""Colour-coded (RGB) masks -> index masks, once for a whole folder; or list the colours the masks hold.

    # which colours are there? (pixel share and images of each, and a palette to name in the config)
    python tools/dataset_converters/colour_masks.py data/mine/masks --find --nproc 2

    # convert: colour i of the palette -> label i (grey PNG, same relative names under OUT_DIR)
    python tools/dataset_converters/colour_masks.py data/mine/masks -o data/mine/labels \\
        --palette '[[0, 0, 0], [255, 0, 0], [0, 255, 0]]' --nproc 2
    python tools/dataset_converters/colour_masks.py data/mine/masks -o data/mine/labels --config CONFIG

``--config`` takes the colours from the config's training dataset (its ``colour_masks``); the written values are
the raw labels that config's ``reduce_zero_label`` / ``label_map`` then apply to, so the config reads the
converted folder once ``colour_masks`` is removed. A colour outside the palette stops the run naming the file, the
colour and its pixel count; ``--unknown ignore`` writes ``--ignore-index`` (255) there instead. Datasets can also
read colour masks directly, without converting (``colour_masks=True``; docs/own_data.md).
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from segkit.datasets.colour_masks import ColourTable, code_to_colour, colour_codes, count_colours, mask_rgb  # noqa
from task_progress import run_tasks  # noqa: E402

#: More distinct colours than this and the masks are likely anti-aliased or compressed, not colour-coded.
MANY_COLOURS = 64


def read_rgb_mask(path: str) -> np.ndarray:
    """An HxWx3 RGB colour mask from a file (PNG, BMP, TIFF: what OpenCV reads); errors name the file."""
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise OSError(f'cannot read mask {path}: not an image OpenCV decodes, or truncated')
    if mask.ndim == 2:
        raise ValueError(f'mask {path} is single-channel (already label indices?); only colour masks are converted')
    return mask_rgb(mask, path)


def mask_colours(path: str) -> Tuple[str, np.ndarray, np.ndarray]:
    """``(path, codes, pixels)``: the distinct colour codes of one mask and their pixel counts."""
    codes, counts = np.unique(colour_codes(read_rgb_mask(path)), return_counts=True)
    return path, codes, counts


def convert_mask(task: tuple) -> Tuple[str, int]:
    """Write one mask's labels; ``(dst, pixels of unknown colours)``; raises on them unless ``unknown='ignore'``."""
    src, dst, colours, values, unknown_mode, ignore_index = task
    rgb = read_rgb_mask(src)
    labels, unknown = ColourTable(colours, values).lookup(rgb)
    if unknown.any():
        if unknown_mode != 'ignore':
            found = count_colours(rgb, unknown)
            shown = ', '.join(f'{list(c)}: {n} pixels' for c, n in found[:5])
            raise ValueError(f'mask {src} holds colours outside the palette ({shown}); add them to the palette or '
                             'pass --unknown ignore')
        labels[unknown] = ignore_index
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    if not cv2.imwrite(dst, labels.astype(np.uint8)):
        raise OSError(f'cannot write {dst}')
    return dst, int(np.count_nonzero(unknown))


def list_masks(folder: str, suffix: str) -> List[str]:
    """Relative paths of the files ending in ``suffix`` under ``folder``, sorted."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'mask folder {folder} does not exist')
    found = sorted(osp.relpath(osp.join(root, f), folder) for root, _, files in os.walk(folder, followlinks=True)
                   for f in files if f.endswith(suffix))
    if not found:
        raise FileNotFoundError(f"no files ending in '{suffix}' under {folder}; see --suffix")
    return found


def colour_census(paths: Sequence[str], nproc: int) -> Tuple[Counter, Counter]:
    """``(pixels, images)`` per colour code over the masks."""
    pixels, images = Counter(), Counter()
    for _, codes, counts in run_tasks(mask_colours, list(paths), nproc, 'Counting colours'):
        for code, count in zip(codes.tolist(), counts.tolist()):
            pixels[code] += count
            images[code] += 1
    return pixels, images


def colour_report(pixels: Counter, images: Counter, num_masks: int, top: int = MANY_COLOURS) -> str:
    """The table of colours (most pixels first) and a palette to paste into a config."""
    total = sum(pixels.values())
    ranked = pixels.most_common()
    lines = [f'{len(ranked)} distinct colours in {num_masks} masks ({total} pixels)',
             f'{"#":>3}  {"colour [r, g, b]":<18} {"pixels":>12} {"share %":>8} {"images":>7}']
    for index, (code, count) in enumerate(ranked[:top]):
        lines.append(f'{index:>3}  {str(list(code_to_colour(code))):<18} {count:>12} {100 * count / total:>8.3f} '
                     f'{images[code]:>7}')
    if len(ranked) > top:
        rest = sum(count for _, count in ranked[top:])
        lines.append(f'... {len(ranked) - top} more colours with {100 * rest / total:.3f} % of the pixels')
    if len(ranked) > MANY_COLOURS:
        lines.append(f'warning: more than {MANY_COLOURS} colours: the masks look anti-aliased or compressed (JPEG), '
                     'not colour-coded; exact colour lookup will fail on the blended edge colours')
    palette = [list(code_to_colour(code)) for code, _ in ranked[:top]]
    names = ', '.join(repr(f'class{i}') for i in range(len(palette)))
    lines += ['', 'Name the classes, keep the colours of real classes (in your class order), then in the dataset:',
              f'    palette={json.dumps(palette)},', f'    classes=({names}),', '    colour_masks=True,']
    return '\n'.join(lines)


def palette_from_args(args) -> Tuple[List[List[int]], List[int], Optional[int]]:
    """``(colours, raw labels, ignore_index)`` of ``--palette`` or of ``--config``'s training dataset."""
    if args.palette:
        text = open(args.palette, encoding='utf-8').read() if osp.isfile(args.palette) else args.palette
        try:
            colours = json.loads(text)
        except json.JSONDecodeError as err:
            raise SystemExit(f'--palette: not JSON ({err}); give [[r, g, b], ...] or a .json file of it') from err
        return colours, list(range(len(colours))), None
    from mmengine.registry import init_default_scope

    from segkit.engine.config_setup import load_config
    from segkit.registry import DATASETS
    cfg = load_config(args.config)
    init_default_scope(cfg.get('default_scope', 'segkit'))
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=[], lazy_init=True))
    if dataset.colour_table is None:
        raise SystemExit(f'{args.config}: train_dataloader.dataset has no colour_masks; give --palette instead')
    table = dataset.colour_table
    return [list(c) for c in table.colours], list(table.values), dataset.ignore_index


def main(argv=None) -> Dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('mask_dir', help='folder of colour masks (searched recursively)')
    parser.add_argument('-o', '--out-dir', help='where the index masks go (same relative names, .png)')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--find', action='store_true', help='only list the colours found, with pixel shares')
    source.add_argument('--palette', help='JSON [[r, g, b], ...] (colour i -> label i), or a .json file of it')
    source.add_argument('--config', help="take the colours from this config's training dataset (colour_masks)")
    parser.add_argument('--unknown', choices=['error', 'ignore'], default='error',
                        help='a colour outside the palette: stop (default) or write --ignore-index')
    parser.add_argument('--ignore-index', type=int, help='label of unknown colours with --unknown ignore (255, '
                        "or the config's ignore_index)")
    parser.add_argument('--suffix', default='.png', help='mask file suffix (default .png)')
    parser.add_argument('--top', type=int, default=MANY_COLOURS, help='colours listed by --find')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    names = list_masks(args.mask_dir, args.suffix)
    paths = [osp.join(args.mask_dir, n) for n in names]
    if args.find:
        pixels, images = colour_census(paths, args.nproc)
        print(colour_report(pixels, images, len(paths), args.top))
        return dict(pixels=pixels, images=images)
    if not (args.palette or args.config) or not args.out_dir:
        parser.error('converting needs -o OUT_DIR and --palette or --config (or --find to list the colours)')
    colours, values, config_ignore = palette_from_args(args)
    ignore_index = args.ignore_index if args.ignore_index is not None else (
        255 if config_ignore is None else config_ignore)
    if not 0 <= ignore_index <= 255:
        raise SystemExit(f'--ignore-index {ignore_index}: the converter writes 8-bit PNGs, give 0..255')
    tasks = [(src, osp.join(args.out_dir, osp.splitext(name)[0] + '.png'), colours, values, args.unknown,
              ignore_index) for src, name in zip(paths, names)]
    written = run_tasks(convert_mask, tasks, args.nproc, 'Converting masks')
    unknown = sum(n for _, n in written)
    print(f'{len(written)} masks written to {args.out_dir}' +
          (f'; {unknown} pixels of unknown colours set to {ignore_index}' if unknown else ''))
    return dict(written=sorted(dst for dst, _ in written), unknown_pixels=unknown)


if __name__ == '__main__':
    main()
