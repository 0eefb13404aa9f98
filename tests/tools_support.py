"""Inputs for the tests of the after-training tools: a real image and a tiny model saved as config + checkpoint."""
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
CAMVID_VAL = REPO.parent / 'shared' / 'data' / 'camvid' / 'val'

# The Shapes demo config with a ResNetV1c-18 at 8 base channels, OS 8, on 32 px Shapes data generated in tmp.
TINY_CONFIG = '''
_base_ = [{base!r}]
model = dict(
    data_preprocessor=dict(size=(32, 32), size_divisor=8),
    output_stride=8,
    backbone=dict(stem_channels=8, base_channels=8),
    decode_head=dict(in_channels=64, channels=8, dilations=(1, 2, 3, 4), dilations_output_stride=8,
                     low_level_in_channels=8, low_level_channels=4),
    auxiliary_head=dict(in_channels=32, channels=4))
crop_size = (32, 32)
_data = dict(data_root={data!r}, num_train=4, num_val=3, img_size=32)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(_data, pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                                      dict(type='PackSegInputs')]))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4, val_interval=2)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=4, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4),
                     visualization=dict(draw=True, interval=1, out_dir='overlays', max_images=1))
custom_hooks = []
'''


# write_tiny_config's extra for a timm encoder: the head's inputs come from the backbone's feature_info.
TIMM_ENCODER = '''
model = dict(
    data_preprocessor=dict(size=(32, 32), size_divisor=8),
    output_stride=8,
    backbone=dict(_delete_=True, type='TimmBackbone', model_name={model_name!r}),
    decode_head=dict(_delete_=True, type='DepthwiseSeparableASPPHead', channels={channels}, dilations=(1, 2, 3),
                     dilations_output_stride=8, low_level_channels={low_level_channels}, num_classes=6,
                     norm_cfg=dict(type='BN', requires_grad=True)),
    auxiliary_head=None)
'''


def timm_encoder(model_name: str = 'test_resnet', channels: int = 8, low_level_channels: int = 4) -> str:
    """The tiny Shapes config's model with timm's ``model_name`` as the encoder (``write_tiny_config(extra=...)``)."""
    return TIMM_ENCODER.format(model_name=model_name, channels=channels, low_level_channels=low_level_channels)


def real_image(tmp_path: Path) -> Path:
    """A CamVid validation frame (480x360) when ../shared has CamVid, else a rendered Shapes scene (96x96)."""
    if CAMVID_VAL.is_dir():
        frames = sorted(CAMVID_VAL.glob('*.png'))
        if frames:
            return frames[0]
    from segkit.datasets.shapes_generator import render_scene
    image, _ = render_scene(np.random.default_rng(0), 96, top_class=1)
    path = tmp_path / 'scene.png'
    cv2.imwrite(str(path), image)
    return path


def write_tiny_config(tmp_path: Path, extra: str = '') -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / 'tiny_shapes.py'
    path.write_text(TINY_CONFIG.format(base=str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py'),
                                       data=str(tmp_path / 'shapes')) + textwrap.dedent(extra))
    return path


def write_tiny_checkpoint(tmp_path: Path, seed: int = 0) -> Tuple[Path, Path]:
    """(config, checkpoint) of the tiny model with seeded random weights and the Shapes class names.

    Batch-norm statistics are measured on a few random images: with the default ones (mean 0, variance 1) a
    random network answers almost the same for every input, and tests could not tell inputs apart.
    """
    from segkit.apis import init_model
    config = write_tiny_config(tmp_path)
    torch.manual_seed(seed)
    model = init_model(str(config))
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 48, 64), mode='tensor')
    model.eval()
    checkpoint = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': dict(model.dataset_meta)}}, checkpoint)
    return config, checkpoint


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f'the demo server exited early:\n{server.stdout.read()}')
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f'the demo server did not answer on {url} within {seconds} s')


@contextmanager
def web_demo_server(config: str, checkpoint: str, cwd: Optional[Path] = None) -> Iterator[str]:
    """tools/web_demo.py serving ``config`` + ``checkpoint`` on a free loopback port; yields its URL, then stops it."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    process = subprocess.Popen([sys.executable, str(REPO / 'tools' / 'web_demo.py'), config, checkpoint,
                                '--port', str(port)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f'http://127.0.0.1:{port}/'
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
