import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
CAMVID = SHARED / 'data' / 'camvid'
MOBILENET_WEIGHTS = SHARED / 'weights' / 'mobilenet_v2-b0353104.pth'

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _segkit_scope():
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('segkit')
    yield
    DefaultScope._instance_dict.clear()
