"""ISPRS Vaihingen downloads -> MMSegmentation's tiled layout (data/vaihingen/{img_dir,ann_dir}/{train,val}/*.png).

    python tools/dataset_converters/vaihingen.py DOWNLOAD_DIR [-o data/vaihingen] [--labels noBoundary|all]

DOWNLOAD_DIR holds, unextracted, the benchmark's ``ISPRS_semantic_labeling_Vaihingen.zip`` (33 IRRG orthophotos
``top/top_mosaic_09cm_area<n>.tif``) and ``ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip``
(``top_mosaic_09cm_area<n>_noBoundary.tif``, labels with eroded class boundaries, MMSegmentation's choice;
``--labels all`` reads ``ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip``), from the ISPRS 2D semantic
labelling page (access by request form). Each orthophoto becomes 512x512 tiles named
``area<n>_<x0>_<y0>_<x1>_<y1>.png``: 344 train and 398 val tiles, as MMSegmentation's converter writes them (see
tiling.py for its stride; ``--stride 256`` gives overlapping tiles instead). Labels: 0 boundary (ignored), 1-6 the
classes of ``ISPRSDataset`` (see isprs.py).
"""
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from isprs import IsprsDownload, main as convert  # noqa: E402

VAIHINGEN = IsprsDownload(
    name='Vaihingen',
    image_zip='ISPRS_semantic_labeling_Vaihingen.zip',
    image_pattern=r'(?:^|/)top/top_mosaic_09cm_(?P<key>area\d+)\.tif$',
    label_zips={'noBoundary': 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip',
                'all': 'ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE.zip'},
    label_patterns={'noBoundary': r'(?:^|/)top_mosaic_09cm_(?P<key>area\d+)_noBoundary\.tif$',
                    'all': r'(?:^|/)top_mosaic_09cm_(?P<key>area\d+)\.tif$'},
    splits=dict(  # MMSegmentation's split of the 33 orthophotos
        train=('area1', 'area11', 'area13', 'area15', 'area17', 'area21', 'area23', 'area26', 'area28', 'area3',
               'area30', 'area32', 'area34', 'area37', 'area5', 'area7'),
        val=('area6', 'area24', 'area35', 'area16', 'area14', 'area22', 'area10', 'area4', 'area2', 'area20', 'area8',
             'area31', 'area33', 'area27', 'area38', 'area12', 'area29')),
    out_dir=osp.join('data', 'vaihingen'))


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Tile the Vaihingen downloads; the number of tiles per split."""
    return convert(VAIHINGEN, __doc__, argv)


if __name__ == '__main__':
    main()
