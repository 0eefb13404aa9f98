"""COCO-Stuff downloads -> the ``*_labelTrainIds.png`` label maps of ``COCOStuffDataset`` (171 classes).

    python tools/dataset_converters/coco_stuff.py DOWNLOAD_DIR [-o data/coco_stuff164k] [--nproc 8]

The release is the one whose label archive DOWNLOAD_DIR holds (``--release 164k|10k`` where it holds both).

164k: DOWNLOAD_DIR holds, unextracted, ``stuffthingmaps_trainval2017.zip`` (COCO-Stuff's label maps
``{train2017,val2017}/<id>.png``: 0-181, 255 unlabelled) and COCO's ``train2017.zip`` and ``val2017.zip`` (images
``{train2017,val2017}/<id>.jpg``; not needed when OUT/images/<split> already holds them). Writes
``images/{train2017,val2017}/<id>.jpg`` and ``annotations/{train2017,val2017}/<id>_labelTrainIds.png`` (0-170,
255 unlabelled).

10k: DOWNLOAD_DIR holds ``cocostuff-10k-v1.1.zip`` (``images/<name>.jpg``, ``annotations/<name>.mat`` with the
label map ``S``: 0 unlabelled, 1-182; ``imageLists/{train,test}.txt``). Writes ``images/{train2014,test2014}/
<name>.jpg`` and ``annotations/{train2014,test2014}/<name>_labelTrainIds.png`` (1-171, 0 unlabelled: the 10k
configs set ``reduce_zero_label=True``). Reading the .mat files needs scipy.

Both map the 182 official ids to the 171 classes with ``segkit.datasets.coco_stuff.COCO_STUFF_LABEL_IDS`` (11
thing ids of COCO have no pixels), as MMSegmentation's ``coco_stuff164k.py`` and ``coco_stuff10k.py`` do.
"""
import io
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from archives import (closes_archives, extract, extract_member, list_members, open_zip, read_image,  # noqa: E402
                      require_archive, write_image)
from segkit.datasets.coco_stuff import COCO_STUFF_LABEL_IDS  # noqa: E402
from task_progress import converter_parser, run_tasks  # noqa: E402

UNLABELLED_164K = 255
#: 164k label map value (0-181, 255) -> class index (0-170), 255 for unlabelled and the unused ids
LUT_164K = np.full(256, UNLABELLED_164K, np.uint8)
LUT_164K[list(COCO_STUFF_LABEL_IDS)] = np.arange(len(COCO_STUFF_LABEL_IDS))
#: 10k label map value (0 unlabelled, 1-182) -> 1 + class index (1-171), 0 for unlabelled and the unused ids
LUT_10K = np.zeros(256, np.uint8)
LUT_10K[[i + 1 for i in COCO_STUFF_LABEL_IDS]] = np.arange(1, len(COCO_STUFF_LABEL_IDS) + 1)
RELEASES = {'164k': 'stuffthingmaps_trainval2017.zip', '10k': 'cocostuff-10k-v1.1.zip'}
SIZES = {'164k': dict(train2017=118287, val2017=5000), '10k': dict(train2014=9000, test2014=1000)}


def convert_164k_label(task: tuple) -> None:
    """One stuffthingmaps PNG ``(archive, member, destination)`` to a ``*_labelTrainIds.png``."""
    archive, member, dest = task
    labels = read_image(archive, member, cv2.IMREAD_UNCHANGED)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f'{archive}: {member} is a {labels.shape} {labels.dtype} image; stuffthingmaps are '
                         'single-channel 8-bit label maps')
    write_image(dest, LUT_164K[labels])


def convert_10k_sample(task: tuple) -> None:
    """One 10k sample: its image copied, its .mat label map ``S`` written as a ``*_labelTrainIds.png``."""
    archive, image_member, mat_member, image_dest, label_dest = task
    try:
        from scipy.io import loadmat
    except ImportError as err:
        raise ImportError('reading COCO-Stuff 10k .mat files needs scipy: pip install scipy') from err
    mat = loadmat(io.BytesIO(open_zip(archive).read(mat_member)))
    if 'S' not in mat:
        raise KeyError(f'{archive}: {mat_member} has no label map S (keys: '
                       f'{sorted(k for k in mat if not k.startswith("__"))})')
    labels = np.asarray(mat['S'])
    if labels.ndim != 2 or labels.min() < 0 or labels.max() > 182:
        raise ValueError(f'{archive}: {mat_member}: S is a {labels.ndim}-D map of values {labels.min()}-'
                         f'{labels.max()}; expected a 2-D map of 0 (unlabelled) and 1-182')
    extract_member(archive, image_member, image_dest)
    write_image(label_dest, LUT_10K[labels.astype(np.uint8)])


def which_release(download_dir: str, release: Optional[str]) -> str:
    """``release`` if given, else the one whose label archive is in ``download_dir``."""
    present = [name for name, archive in RELEASES.items() if osp.isfile(osp.join(download_dir, archive))]
    if release or len(present) == 1:
        return release or present[0]
    downloads = ' and '.join(f'{archive} (COCO-Stuff {name})' for name, archive in RELEASES.items())
    if present:
        raise ValueError(f'{download_dir} holds both {downloads}; choose one with --release 164k or --release 10k')
    raise FileNotFoundError(f'{download_dir} holds neither of {downloads}; download one (see this script\'s --help)')


def tasks_164k(download_dir: str, out_dir: str) -> Tuple[List[tuple], List[tuple]]:
    """The label conversions and the image extractions (for the splits whose image folder is absent) to run."""
    maps = require_archive(download_dir, RELEASES['164k'], "COCO-Stuff 164k's label maps")
    tasks, image_tasks = [], []
    for split in SIZES['164k']:
        members = list_members(maps, rf'(?:^|/){split}/[^/]+\.png$')
        if not members:
            raise FileNotFoundError(f'{maps} holds no {split}/*.png; is it stuffthingmaps_trainval2017.zip?')
        os.makedirs(osp.join(out_dir, 'annotations', split), exist_ok=True)
        tasks += [(maps, m, osp.join(out_dir, 'annotations', split, osp.basename(m)[:-4] + '_labelTrainIds.png'))
                  for m in members]
        image_dir = osp.join(out_dir, 'images', split)
        if not osp.isdir(image_dir):
            images = require_archive(download_dir, f'{split}.zip', f'the COCO {split} images (cocodataset.org); or '
                                     f'put them, extracted, in {image_dir}')
            os.makedirs(image_dir)
            image_tasks += [(images, m, osp.join(image_dir, osp.basename(m)))
                            for m in list_members(images, rf'(?:^|/){split}/[^/]+\.jpg$')]
    return tasks, image_tasks


def tasks_10k(download_dir: str, out_dir: str) -> List[tuple]:
    """The samples of cocostuff-10k-v1.1.zip's train and test lists."""
    archive = require_archive(download_dir, RELEASES['10k'], 'the COCO-Stuff 10k release')
    lists = list_members(archive, r'(?:^|/)imageLists/train\.txt$')
    if not lists:
        raise FileNotFoundError(f'{archive} holds no imageLists/train.txt; is it cocostuff-10k-v1.1.zip?')
    root = lists[0][:-len('imageLists/train.txt')]  # the folder the release is in, if any
    members = set(open_zip(archive).namelist())
    tasks = []
    for list_name, split in (('train', 'train2014'), ('test', 'test2014')):
        list_member = f'{root}imageLists/{list_name}.txt'
        if list_member not in members:
            raise FileNotFoundError(f'{archive} has no {list_member}')
        names = open_zip(archive).read(list_member).decode().split()
        for folder in ('images', 'annotations'):
            os.makedirs(osp.join(out_dir, folder, split), exist_ok=True)
        for name in names:
            image, mat = f'{root}images/{name}.jpg', f'{root}annotations/{name}.mat'
            absent = [m for m in (image, mat) if m not in members]
            if absent:
                raise FileNotFoundError(f'{archive} lists {name} in {list_member} but has no {" or ".join(absent)}')
            tasks.append((archive, image, mat, osp.join(out_dir, 'images', split, name + '.jpg'),
                          osp.join(out_dir, 'annotations', split, name + '_labelTrainIds.png')))
    return tasks


@closes_archives
def main(argv: Optional[List[str]] = None) -> int:
    """Convert one COCO-Stuff release; the number of label maps written."""
    parser = converter_parser(__doc__, "the folder holding the release's zip files", None,
                              'where images/ and annotations/ go (default: data/coco_stuff164k or data/coco_stuff10k)')
    parser.add_argument('--release', choices=sorted(RELEASES), help='where DOWNLOAD_DIR holds both label archives')
    args = parser.parse_args(argv)
    release = which_release(args.download_dir, args.release)
    out_dir = args.out_dir or osp.join('data', f'coco_stuff{release}')

    if release == '164k':
        tasks, image_tasks = tasks_164k(args.download_dir, out_dir)
        run_tasks(extract, image_tasks, args.nproc, 'COCO 2017 images')
        run_tasks(convert_164k_label, tasks, args.nproc, 'COCO-Stuff 164k labels')
    else:
        tasks = tasks_10k(args.download_dir, out_dir)
        run_tasks(convert_10k_sample, tasks, args.nproc, 'COCO-Stuff 10k samples')
    print(f'{len(tasks)} label maps written under {osp.join(out_dir, "annotations")}')
    expected = sum(SIZES[release].values())
    if len(tasks) != expected:
        print(f'warning: the full COCO-Stuff {release} has {expected} label maps, this download {len(tasks)}',
              file=sys.stderr)
    return len(tasks)


if __name__ == '__main__':
    main()
