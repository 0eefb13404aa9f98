"""Real data: DeepLabv3+ MobileNetV2 (ImageNet init) trained for a few minutes on CamVid reaches val mIoU >= 30.

Needs CamVid (data/camvid, else ../shared/data/camvid) and mobilenet_v2-b0353104.pth in $SEGKIT_WEIGHTS (which
tests/conftest.py sets to ../shared/weights when unset); skipped when they are absent. The config reads the weights
from $SEGKIT_WEIGHTS itself.
"""
import sys
from pathlib import Path

import pytest

from tests.conftest import CAMVID, MOBILENET_WEIGHTS

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / 'configs/deeplabv3plus/mobilenetv2_256x256_camvid.py'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CAMVID / 'train.txt').exists() or not MOBILENET_WEIGHTS.exists(),
                       reason='needs CamVid and $SEGKIT_WEIGHTS/mobilenet_v2-b0353104.pth (CamVid: no redistribution)'),
]


def test_short_camvid_training_reaches_30_miou(tmp_path):
    sys.path.insert(0, str(REPO / 'tools'))
    import test as test_tool
    import train as train_tool
    work = tmp_path / 'camvid'
    iters = 200
    overrides = [
        f'data_root={CAMVID}', f'train_dataloader.dataset.data_root={CAMVID}',
        f'val_dataloader.dataset.data_root={CAMVID}', f'test_dataloader.dataset.data_root={CAMVID}',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}', f'param_scheduler.0.end={iters}',
        f'default_hooks.checkpoint.interval={iters}', 'default_hooks.checkpoint.save_best=None',
    ]
    train_tool.main([str(CONFIG), '--work-dir', str(work), '--cfg-options', *overrides])
    metrics = test_tool.main([str(CONFIG), str(work / f'iter_{iters}.pth'), '--work-dir', str(work / 'test'),
                              '--cfg-options', *overrides[:4]])
    print('CamVid val after', iters, 'iterations:', metrics)
    assert metrics['mIoU'] >= 30.0
