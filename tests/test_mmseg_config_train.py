"""An MMSegmentation config file, copied out of MMSegmentation with its _base_ folder beside it, trains through
tools/train.py and evaluates through tools/test.py without an edit: only --cfg-options shrink the run (a
ResNet-18, 32 px crops, 20 iterations) and point it at constructed VOC-layout data."""
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
MMSEG_CONFIGS = REPO / 'tests' / 'fixtures' / 'mmseg_configs'
CONFIG = 'deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'


def write_voc(root: Path, n: int = 6) -> None:
    """VOC 2012 + SBD-aug layout (JPEGImages, SegmentationClass, SegmentationClassAug, ImageSets/Segmentation):
    rectangles of three classes whose colour gives the class, 255 borders."""
    rng = np.random.default_rng(0)
    voc = root / 'data' / 'VOCdevkit' / 'VOC2012'
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug', 'ImageSets/Segmentation'):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    colours = {1: (0, 0, 200), 7: (0, 200, 0), 15: (200, 0, 0)}
    names = []
    for i in range(n):
        image = rng.integers(0, 40, (48, 64, 3), dtype=np.uint8)
        label = np.zeros((48, 64), np.uint8)
        for cls, colour in colours.items():
            y, x = rng.integers(0, 30), rng.integers(0, 44)
            label[y:y + 16, x:x + 18] = cls
            image[y:y + 16, x:x + 18] = colour
        label[0, :] = 255
        name = f'2007_{i:06d}'
        names.append(name)
        cv2.imwrite(str(voc / 'JPEGImages' / f'{name}.jpg'), image)
        for folder in ('SegmentationClass', 'SegmentationClassAug'):
            cv2.imwrite(str(voc / folder / f'{name}.png'), label)
    for split, subset in (('train', names[:4]), ('aug', names[:4]), ('val', names[4:])):
        (voc / 'ImageSets/Segmentation' / f'{split}.txt').write_text('\n'.join(subset) + '\n')


SHRINK = [
    'model.pretrained=None', 'model.backbone.depth=18', 'model.decode_head.in_channels=512',
    'model.decode_head.c1_in_channels=64', 'model.decode_head.channels=16', 'model.decode_head.c1_channels=8',
    'model.auxiliary_head.in_channels=256', 'model.auxiliary_head.channels=8', 'model.data_preprocessor.size=(32,32)',
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
    'val_dataloader.dataset.pipeline.1.scale=(128,32)', 'test_dataloader.dataset.pipeline.1.scale=(128,32)',
    'train_cfg.max_iters=20', 'train_cfg.val_interval=20', 'param_scheduler.0.end=20',
    'default_hooks.checkpoint.interval=20', 'default_hooks.logger.interval=5',
] + [f'train_dataloader.dataset.datasets.{i}.pipeline.{step}={value}' for i in (0, 1)  # VOC and SBD
     for step, value in (('2.scale', '(128,32)'), ('3.crop_size', '(32,32)'), ('6.size', '(32,32)'))]


@pytest.mark.slow
def test_an_mmseg_config_trains_and_evaluates_unchanged(tmp_path):
    configs = tmp_path / 'configs'
    shutil.copytree(MMSEG_CONFIGS, configs)
    before = (configs / CONFIG).read_bytes()
    write_voc(tmp_path)
    work = tmp_path / 'work'
    train = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(configs / CONFIG),
                            '--work-dir', str(work), '--cfg-options', *SHRINK],
                           cwd=tmp_path, capture_output=True, text=True, timeout=900)
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-4000:]
    assert 'as an MMSegmentation 1.x config' in log
    assert (work / 'iter_20.pth').is_file()
    assert 'mIoU' in log
    test = subprocess.run([sys.executable, str(REPO / 'tools' / 'test.py'), str(configs / CONFIG),
                           str(work / 'iter_20.pth'), '--work-dir', str(tmp_path / 'eval'), '--cfg-options',
                           *[o for o in SHRINK if o.startswith(('model.', 'test_dataloader', 'val_dataloader'))]],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    assert 'mIoU' in test.stdout + test.stderr
    assert (configs / CONFIG).read_bytes() == before  # the file was used as it is
