"""Tiny stand-ins for official dataset downloads: zips with the official member names, images encoded in memory."""
import sys
import zipfile
from pathlib import Path
from typing import Dict

import cv2
import numpy as np

CONVERTERS = Path(__file__).resolve().parents[1] / 'tools' / 'dataset_converters'
sys.path.insert(0, str(CONVERTERS))


def write_zip(path: Path, members: Dict[str, bytes]) -> Path:
    """A zip at ``path`` holding ``members`` (``{name: content}``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def encoded(image: np.ndarray, suffix: str) -> bytes:
    """``image`` (BGR if colour) encoded by OpenCV as ``suffix`` ('.tif', '.png', '.jpg')."""
    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


def rgb_encoded(rgb: np.ndarray, suffix: str) -> bytes:
    """An RGB image (a colour-coded label map) encoded so that it decodes to these colours."""
    return encoded(np.ascontiguousarray(rgb[..., ::-1]), suffix)


def read(path: Path) -> np.ndarray:
    """A written image as OpenCV reads it unchanged (BGR for colour, 2-D for grey)."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f'{path} is not a readable image'
    return image


def random_image(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
