import os
from pathlib import Path

import pytest
import torch

from tests.hub_support import offline_hub  # noqa: F401  (fixture: an offline Hugging Face cache in tmp)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'  # CI's copy of CamVid and the ImageNet weights, beside the checkout

# The configs read pretrained files from $SEGKIT_WEIGHTS (default checkpoints/, README "Data and weights"). The tests
# use ../shared/weights unless the caller chose a directory; set here, before any config is read, so the tools the
# tests run (in-process or as subprocesses) resolve the same files.
if 'SEGKIT_WEIGHTS' not in os.environ and (SHARED / 'weights').is_dir():
    os.environ['SEGKIT_WEIGHTS'] = str(SHARED / 'weights')
WEIGHTS_DIR = REPO / os.environ.get('SEGKIT_WEIGHTS', 'checkpoints')  # a relative value is read from the repo root
MOBILENET_WEIGHTS = WEIGHTS_DIR / 'mobilenet_v2-b0353104.pth'

# CamVid: the configs read data/camvid (git-ignored, linked by the user); the tests take it from there when it is
# linked, else from ../shared/data/camvid, and pass it as data_root. Tests needing it skip when neither has it.
CAMVID = next((path for path in (REPO / 'data' / 'camvid', SHARED / 'data' / 'camvid')
               if (path / 'train.txt').is_file()), SHARED / 'data' / 'camvid')

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _segkit_scope():
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('segkit')
    yield
    DefaultScope._instance_dict.clear()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` skip where torch sees no GPU (setup.cfg registers the marker)."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs CUDA: torch.cuda.is_available() is False')
    for item in items:
        if item.get_closest_marker('cuda') is not None:
            item.add_marker(skip)
