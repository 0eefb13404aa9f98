"""LoveDA downloads -> MMSegmentation's layout (data/loveDA/{img_dir,ann_dir}/{train,val,test}/*.png).

    python tools/dataset_converters/loveda.py DOWNLOAD_DIR [-o data/loveDA]

DOWNLOAD_DIR holds, unextracted, the three archives of the official release (Zenodo record 5706578):
``Train.zip`` and ``Val.zip`` (``<Split>/{Rural,Urban}/images_png/<n>.png`` 1024x1024 images and
``<Split>/{Rural,Urban}/masks_png/<n>.png`` labels: 0 no data, 1-7 the classes of ``LoveDADataset``) and, optionally,
``Test.zip`` (images only). Rural and urban images go into one folder per split, as MMSegmentation's converter puts
them (their numbers do not collide); files are copied unchanged.
"""
import os
import os.path as osp
import posixpath
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from archives import closes_archives, extract, list_members, require_archive  # noqa: E402
from task_progress import converter_parser, run_tasks  # noqa: E402

SPLITS = dict(train='Train.zip', val='Val.zip', test='Test.zip')
RELEASE = 'the LoveDA release on Zenodo (record 5706578)'


def split_files(archive: str, split: str, out_dir: str, with_masks: bool) -> List[tuple]:
    """``(archive, member, destination)`` for the images (and masks) of one split's archive."""
    images = list_members(archive, r'(?:^|/)(?:Rural|Urban)/images_png/[^/]+\.png$')
    if not images:
        raise FileNotFoundError(f'{archive} holds no <Split>/Rural|Urban/images_png/*.png; is it {RELEASE}?')
    tasks, seen = [], {}
    for member in images:
        name = posixpath.basename(member)
        if name in seen:
            raise ValueError(f'{archive}: {seen[name]} and {member} would both become {split}/{name}')
        seen[name] = member
        tasks.append((archive, member, osp.join(out_dir, 'img_dir', split, name)))
        if with_masks:
            tasks.append((archive, member.replace('/images_png/', '/masks_png/'),
                          osp.join(out_dir, 'ann_dir', split, name)))
    if with_masks:
        present = set(list_members(archive, r'/masks_png/[^/]+\.png$'))
        missing = [t[1] for t in tasks[1::2] if t[1] not in present]
        if missing:
            raise FileNotFoundError(f'{archive} lacks the masks of {len(missing)} images: {", ".join(missing[:5])}')
    return tasks


@closes_archives
def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Convert the LoveDA downloads; the number of images per split."""
    args = converter_parser(__doc__, 'the folder holding Train.zip, Val.zip (and Test.zip)',
                            osp.join('data', 'loveDA'), 'where img_dir/ and ann_dir/ go').parse_args(argv)

    counts = {}
    for split, archive_name in SPLITS.items():
        if split == 'test' and not osp.isfile(osp.join(args.download_dir, archive_name)):
            print(f'{archive_name} is not in {args.download_dir}: img_dir/test not written', file=sys.stderr)
            continue
        archive = require_archive(args.download_dir, archive_name, f'the {split} split of {RELEASE}')
        tasks = split_files(archive, split, args.out_dir, with_masks=split != 'test')
        for folder in ('img_dir', 'ann_dir') if split != 'test' else ('img_dir',):
            os.makedirs(osp.join(args.out_dir, folder, split), exist_ok=True)
        run_tasks(extract, tasks, args.nproc, f'LoveDA {split}')
        counts[split] = sum(1 for task in tasks if '/images_png/' in task[1])
    print(', '.join(f'{n} {split} images' for split, n in counts.items()) + f' written under {args.out_dir}')
    return counts


if __name__ == '__main__':
    main()
