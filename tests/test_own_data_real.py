"""Real data: CamVid frames with their masks written as colour PNGs (CamVid's palette, void black) give, through
colour_masks, exactly the labels and training samples of the index route (the full training pipeline, same seed).
Needs CamVid (data/camvid, else ../shared/data/camvid); skipped without it."""
import random

import cv2
import numpy as np
import pytest
import torch

from segkit.datasets import CamVidDataset
from segkit.engine.config_setup import load_config
from tests.conftest import CAMVID, REPO

CONFIG = REPO / 'configs/deeplabv3plus/mobilenetv2_256x256_camvid.py'
FRAMES = 12

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CAMVID / 'train.txt').exists(), reason='needs CamVid (no redistribution)')]


def colour_copy(tmp_path):
    """A CamVid folder whose first frames' masks are colour PNGs; the palette with void (11) as black."""
    palette = CamVidDataset.METAINFO['palette'] + [[0, 0, 0]]
    root = tmp_path / 'camvid'
    (root / 'trainannot').mkdir(parents=True)
    (root / 'train').symlink_to(CAMVID / 'train')
    names = (CAMVID / 'train.txt').read_text().split()[:FRAMES]
    (root / 'train.txt').write_text('\n'.join(names) + '\n')
    for name in names:
        index = cv2.imread(str(CAMVID / 'trainannot' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        cv2.imwrite(str(root / 'trainannot' / f'{name}.png'), np.asarray(palette, np.uint8)[index][..., ::-1])
    return root, palette


def test_colour_route_gives_the_index_route_samples_exactly(tmp_path):
    root, palette = colour_copy(tmp_path)
    pipeline = load_config(str(CONFIG)).train_dataloader.dataset.pipeline
    index = CamVidDataset(data_root=str(CAMVID), pipeline=pipeline, indices=FRAMES)
    colour = CamVidDataset(data_root=str(root), pipeline=pipeline, colour_masks=palette)
    loads = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    plain_index = CamVidDataset(data_root=str(CAMVID), pipeline=loads, indices=FRAMES)
    plain_colour = CamVidDataset(data_root=str(root), pipeline=loads, colour_masks=palette)
    assert len(index) == len(colour) == FRAMES
    for i in range(FRAMES):
        a, b = plain_index[i]['gt_seg_map'], plain_colour[i]['gt_seg_map']
        assert np.array_equal(a, b) and 255 in a  # void became the ignore index on both routes
        for seed in (0, 1):
            random.seed(seed), np.random.seed(seed)
            x = index[i]
            random.seed(seed), np.random.seed(seed)
            y = colour[i]
            assert torch.equal(x['inputs'], y['inputs'])
            assert torch.equal(x['data_samples'].gt_sem_seg.data, y['data_samples'].gt_sem_seg.data)
