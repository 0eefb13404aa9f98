"""iSAID (DOTA-v1.0 images + iSAID semantic masks) -> MMSegmentation's patch layout (data/iSAID).

    python tools/dataset_converters/isaid.py ISAID_DIR [-o data/iSAID] [--nproc 8]

ISAID_DIR holds the downloads, unextracted, as MMSegmentation's guide lays them out:

    train/images/part1.zip, part2.zip, part3.zip   DOTA-v1.0 training images (images/P<nnnn>.png)
    train/Semantic_masks/images.zip                iSAID's masks (images/P<nnnn>_instance_color_RGB.png)
    val/images/part1.zip, val/Semantic_masks/images.zip
    test/images/part1.zip, part2.zip               (optional) DOTA-v1.0 test images, no masks

Images come from the DOTA-v1.0 page, masks from the iSAID page. Each train/val image and its mask are cut into
896x896 patches every 512 pixels (an overlap of 384), the last one flush with the border, images smaller than a
patch padded at the bottom/right (image 0, mask 255), as MMSegmentation's converter does:
``img_dir/<split>/P<nnnn>_<y0>_<y1>_<x0>_<x1>.png`` and ``ann_dir/<split>/P<nnnn>_<y0>_<y1>_<x0>_<x1>
_instance_color_RGB.png`` (grey PNG, 0-15 in the order of ``segkit.datasets.isaid.ISAID_PALETTE``, 255 padding;
33978 train and 11644 val patches). Test images are copied whole to ``img_dir/test``.
"""
import argparse
import glob
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from archives import closes_archives, extract, find_members, read_image  # noqa: E402
from segkit.datasets.colour_masks import colours_to_labels  # noqa: E402
from segkit.datasets.isaid import ISAID_PALETTE  # noqa: E402
from task_progress import converter_parser, run_tasks  # noqa: E402
from tiling import Box, pad_to_size, save_tiles, tile_boxes  # noqa: E402

IMAGE_PATTERN = r'(?:^|/)(?P<key>P\d+)\.png$'
MASK_PATTERN = r'(?:^|/)(?P<key>P\d+)_instance_color_RGB\.png$'
PAD_LABEL = 255


def split_members(root: str, split: str, pattern: str, folder: str, what: str) -> Dict[str, Tuple[str, str]]:
    """``{key: (zip, member)}`` over the zips in ``root/split/folder``; none there is an error naming ``what``."""
    zips = sorted(glob.glob(osp.join(root, split, folder, '*.zip')))
    if not zips:
        raise FileNotFoundError(f'no zip in {osp.join(root, split, folder)}: put {what} there unextracted (see '
                                "this script's --help)")
    found: Dict[str, Tuple[str, str]] = {}
    for path in zips:
        for key, member in find_members(path, pattern).items():
            if key in found:
                raise ValueError(f'{key} is in both {found[key][0]} and {path}; each image belongs in one archive')
            found[key] = (path, member)
    return found


def cut_patches(task: tuple) -> Tuple[str, int, str]:
    """Cut one image and its mask into patches; ``(split, patches written, warning or '')``."""
    key, (image_zip, image_member), (mask_zip, mask_member), split, out_dir, size, stride = task
    image = read_image(image_zip, image_member)
    labels, unmatched = colours_to_labels(read_image(mask_zip, mask_member)[..., ::-1], ISAID_PALETTE)
    if image.shape[:2] != labels.shape:
        raise ValueError(f'{image_zip}: {image_member} is {image.shape[0]}x{image.shape[1]} but its mask '
                         f'{mask_zip}: {mask_member} is {labels.shape[0]}x{labels.shape[1]} (HxW)')
    image, labels = pad_to_size(image, size, 0), pad_to_size(labels, size, PAD_LABEL)
    boxes = tile_boxes(labels.shape[0], labels.shape[1], size, stride)
    for folder, array, suffix in (('img_dir', image, '.png'), ('ann_dir', labels, '_instance_color_RGB.png')):
        save_tiles(array, boxes, lambda box: osp.join(out_dir, folder, split, patch_name(key, box) + suffix))
    warning = f'{mask_member}: {unmatched} pixels of colours outside the iSAID table became 0' if unmatched else ''
    return split, len(boxes), warning


def patch_name(key: str, box: Box) -> str:
    """MMSegmentation's patch name: the image's, then rows and columns (``P0001_0_896_512_1408``)."""
    x0, y0, x1, y1 = box
    return f'{key}_{y0}_{y1}_{x0}_{x1}'


def labelled_tasks(args: argparse.Namespace, split: str) -> List[tuple]:
    """One :func:`cut_patches` task per image of ``split``; an image without a mask is an error."""
    images = split_members(args.download_dir, split, IMAGE_PATTERN, 'images', f'the DOTA-v1.0 {split} images')
    masks = split_members(args.download_dir, split, MASK_PATTERN, 'Semantic_masks',
                          f"iSAID's {split} semantic masks (images.zip)")
    unmasked = sorted(set(images) - set(masks))
    if unmasked:
        raise FileNotFoundError(f'{len(unmasked)} {split} images have no *_instance_color_RGB.png mask in '
                                f'{osp.join(args.download_dir, split, "Semantic_masks")}: {", ".join(unmasked[:5])}')
    return [(key, images[key], masks[key], split, args.out_dir, args.patch_size, args.patch_size - args.overlap)
            for key in sorted(images)]


@closes_archives
def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Convert the iSAID downloads; the number of patches (images for test) written per split."""
    parser = converter_parser(__doc__, 'the folder holding train/, val/ (and test/)', osp.join('data', 'iSAID'),
                              'where img_dir/ and ann_dir/ go')
    parser.add_argument('--patch-size', type=int, default=896, help='patch side in pixels')
    parser.add_argument('--overlap', type=int, default=384, help='pixels shared by neighbouring patches')
    args = parser.parse_args(argv)
    if not 0 <= args.overlap < args.patch_size:
        parser.error(f'--overlap {args.overlap} must be at least 0 and less than --patch-size {args.patch_size}')

    counts = {}
    for split in ('train', 'val'):
        tasks = labelled_tasks(args, split)
        for folder in ('img_dir', 'ann_dir'):
            os.makedirs(osp.join(args.out_dir, folder, split), exist_ok=True)
        results = run_tasks(cut_patches, tasks, args.nproc, f'Cutting iSAID {split}')
        counts[split] = sum(n for _, n, _ in results)
        for warning in sorted(w for _, _, w in results if w):
            print(f'warning: {warning}', file=sys.stderr)
    if osp.isdir(osp.join(args.download_dir, 'test')):
        images = split_members(args.download_dir, 'test', IMAGE_PATTERN, 'images', 'the DOTA-v1.0 test images')
        test_dir = osp.join(args.out_dir, 'img_dir', 'test')
        os.makedirs(test_dir, exist_ok=True)
        run_tasks(extract, [(path, member, osp.join(test_dir, key + '.png')) for key, (path, member) in
                            sorted(images.items())], args.nproc, 'Copying iSAID test')
        counts['test'] = len(images)
    else:
        print(f'no test/ in {args.download_dir}: img_dir/test not written', file=sys.stderr)
    print(', '.join(f'{n} {split}' for split, n in counts.items()) + f' written under {args.out_dir}')
    return counts


if __name__ == '__main__':
    main()
