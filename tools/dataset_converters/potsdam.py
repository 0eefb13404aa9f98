"""ISPRS Potsdam downloads -> MMSegmentation's tiled layout (data/potsdam/{img_dir,ann_dir}/{train,val}/*.png).

    python tools/dataset_converters/potsdam.py DOWNLOAD_DIR [-o data/potsdam] [--labels noBoundary|all] [--nproc 8]

DOWNLOAD_DIR holds, unextracted, the benchmark's ``2_Ortho_RGB.zip`` (38 orthophotos ``top_potsdam_<i>_<j>_RGB.tif``,
6000x6000; ``--image-zip 3_Ortho_IRRG.zip`` for the IRRG ones) and ``5_Labels_all_noBoundary.zip`` (the labels with
eroded class boundaries, MMSegmentation's choice; ``--labels all`` reads ``5_Labels_all.zip``), from the ISPRS
2D semantic labelling page (access by request form). Each orthophoto becomes 512x512 tiles named
``<i>_<j>_<x0>_<y0>_<x1>_<y1>.png``: 144 per orthophoto, 3456 train and 2016 val tiles, as MMSegmentation's
converter writes them (see tiling.py for its stride; ``--stride 256`` gives overlapping tiles instead).
Labels: 0 boundary (ignored), 1-6 the classes of ``PotsdamDataset`` (see isprs.py).
"""
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from isprs import IsprsDownload, main as convert  # noqa: E402

POTSDAM = IsprsDownload(
    name='Potsdam',
    image_zip='2_Ortho_RGB.zip',
    image_pattern=r'(?:^|/)top_potsdam_(?P<key>\d+_\d+)_(?:RGB|IRRG)\.tif$',
    label_zips={'noBoundary': '5_Labels_all_noBoundary.zip', 'all': '5_Labels_all.zip'},
    label_patterns={'noBoundary': r'(?:^|/)top_potsdam_(?P<key>\d+_\d+)_label_noBoundary\.tif$',
                    'all': r'(?:^|/)top_potsdam_(?P<key>\d+_\d+)_label\.tif$'},
    splits=dict(  # MMSegmentation's split of the 38 orthophotos
        train=('2_10', '2_11', '2_12', '3_10', '3_11', '3_12', '4_10', '4_11', '4_12', '5_10', '5_11', '5_12', '6_10',
               '6_11', '6_12', '6_7', '6_8', '6_9', '7_10', '7_11', '7_12', '7_7', '7_8', '7_9'),
        val=('5_15', '6_15', '6_13', '3_13', '4_14', '6_14', '5_14', '2_13', '4_15', '2_14', '5_13', '4_13', '3_14',
             '7_13')),
    out_dir=osp.join('data', 'potsdam'))


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Tile the Potsdam downloads; the number of tiles per split."""
    return convert(POTSDAM, __doc__, argv)


if __name__ == '__main__':
    main()
