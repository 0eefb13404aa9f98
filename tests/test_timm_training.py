"""DeepLabv3+ on a timm encoder trains with tools/train.py (the loss falls over 50 iterations on Shapes) and
--save-pretrained writes the trained model as a folder that rebuilds it exactly, with its mIoU in the card."""
import json
import sys

import pytest
import torch

import segkit
from segkit.apis import init_model
from tests.test_saved_model import assert_bit_identical
from tests.tools_support import REPO, timm_encoder, write_tiny_config

pytest.importorskip('timm', reason="TimmBackbone needs timm (pip install -e '.[hub]')")
sys.path.insert(0, str(REPO / 'tools'))
import train as train_tool  # noqa: E402

ITERS = 50
# tools_support's tiny Shapes config (32 px, 4 training images) with timm's ResNet-18-D at output stride 8 as the
# encoder; the head's inputs (512 channels, the stride-4 stage of 64) come from the backbone's feature_info.
SCHEDULE = f'''
train_cfg = dict(max_iters={ITERS}, val_interval={ITERS})
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={ITERS}, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={ITERS}), visualization=dict(draw=False))
'''


def _losses(work_dir):
    scalars = next(work_dir.glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [r['loss'] for r in records if 'loss' in r]


@pytest.mark.slow  # a whole training run: 50 iterations and a validation
def test_timm_deeplabv3plus_trains_and_saves_itself(tmp_path):
    config = write_tiny_config(tmp_path, timm_encoder('resnet18d', channels=16, low_level_channels=8) + SCHEDULE)
    work, saved = tmp_path / 'work', tmp_path / 'saved'
    train_tool.main([str(config), '--work-dir', str(work), '--save-pretrained', str(saved)])
    losses = _losses(work)
    assert len(losses) == ITERS
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5, losses
    meta = json.loads((saved / 'meta.json').read_text())
    assert set(meta['metrics']) >= {'mIoU', 'mAcc', 'aAcc'} and 0 <= meta['metrics']['mIoU'] <= 100
    card = (saved / 'README.md').read_text()
    assert f"mIoU {meta['metrics']['mIoU']:.2f}" in card and '--save-pretrained' in card
    assert "timm `resnet18d`" in card
    loaded = segkit.from_pretrained(saved, fast=False)
    trained = init_model(str(config), str(work / f'iter_{ITERS}.pth'), fast=False)
    assert_bit_identical(trained, loaded)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(trained(x, mode='tensor'), loaded(x, mode='tensor'))
