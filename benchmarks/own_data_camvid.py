"""CamVid rewritten as "your own data", for the real-data checks of docs/own_data.md: the same frames with colour
masks, and a 4-band 16-bit TIFF variant. Writes outside the repository (CamVid's licence: never commit them).

    python benchmarks/own_data_camvid.py ../shared/data/camvid /tmp/owndata/camvid --nproc 2

OUT gets ``train``, ``val``, ``trainannot``, ``valannot``, ``train.txt``, ``val.txt`` (links to CAMVID) and

- ``trainannot_colour/``, ``valannot_colour/``: each index mask painted in CamVid's palette
  (``CamVidDataset.METAINFO``), void (11) black;
- ``train4band/``, ``val4band/``: ``<name>.tif``, H x W x 4 uint16: R, G, B scaled by 257 (0..65535), and the
  Sobel gradient magnitude of the grey image scaled to 0..65535 as a fourth band.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
import tifffile

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools', 'dataset_converters'))

from segkit.datasets.camvid import VOID_LABEL, CamVidDataset  # noqa: E402
from task_progress import run_tasks  # noqa: E402

VOID_COLOUR = (0, 0, 0)
#: index -> RGB colour; the void label black
COLOURS = np.array(CamVidDataset.METAINFO['palette'] + [list(VOID_COLOUR)], np.uint8)
assert len(COLOURS) == VOID_LABEL + 1


def edge_band(rgb: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the grey image, uint16 (the largest possible magnitude maps to 65535)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return np.clip(magnitude * (65535 / (4 * 255 * np.sqrt(2))), 0, 65535).astype(np.uint16)


def derive(task) -> str:
    camvid, out, split, name = task
    mask = cv2.imread(osp.join(camvid, f'{split}annot', f'{name}.png'), cv2.IMREAD_UNCHANGED)
    colour = COLOURS[mask]
    cv2.imwrite(osp.join(out, f'{split}annot_colour', f'{name}.png'), np.ascontiguousarray(colour[..., ::-1]))
    rgb = cv2.imread(osp.join(camvid, split, f'{name}.png'), cv2.IMREAD_COLOR)[..., ::-1]
    four = np.concatenate([rgb.astype(np.uint16) * 257, edge_band(rgb)[..., None]], axis=-1)
    tifffile.imwrite(osp.join(out, f'{split}4band', f'{name}.tif'), four, photometric='minisblack',
                     planarconfig='contig')
    return name


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('camvid', help='CamVid (SegNet layout)')
    parser.add_argument('out', help='where the derived data goes (outside the repository)')
    parser.add_argument('--nproc', type=int, default=2)
    args = parser.parse_args(argv)
    camvid, out = osp.abspath(args.camvid), osp.abspath(args.out)
    tasks = []
    for split in ('train', 'val'):
        for folder in (split, f'{split}annot', f'{split}.txt'):
            if not osp.exists(osp.join(out, folder)):
                os.makedirs(out, exist_ok=True)
                os.symlink(osp.join(camvid, folder), osp.join(out, folder))
        for folder in (f'{split}annot_colour', f'{split}4band'):
            os.makedirs(osp.join(out, folder), exist_ok=True)
        with open(osp.join(camvid, f'{split}.txt'), encoding='utf-8') as f:
            tasks += [(camvid, out, split, line.strip()) for line in f if line.strip()]
    run_tasks(derive, tasks, args.nproc, 'Deriving CamVid')
    print(f'{len(tasks)} frames: colour masks and 4-band TIFFs under {out}')


if __name__ == '__main__':
    main()
