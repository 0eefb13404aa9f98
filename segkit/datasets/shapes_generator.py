"""Procedural 'shapes' scenes: segkit's built-in demo data, written to disk once and then read like any dataset.

Each scene is a noisy gradient background with clutter lines (class 0) and 1-6 overlapping objects whose class
is their SHAPE; colour, size, rotation and texture are random and independent of the class, so a model has to
learn shape to score well. Every image comes from its own seeded generator, so the output is byte-identical for
the same arguments.
"""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Tuple

import cv2
import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no lock; the atomic rename still keeps concurrent writers apart
    fcntl = None

SHAPE_CLASSES = ('background', 'disk', 'square', 'triangle', 'ring', 'cross')
SHAPE_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48]]
FORMAT_VERSION = 1
META_FILE = 'shapes_meta.json'
_SPLITS = (('train', 0), ('val', 1))


def generate_shapes(root: str = 'data/shapes', num_train: int = 400, num_val: int = 80, size: int = 128,
                    seed: int = 0) -> Path:
    """Write the shapes dataset under ``root`` unless it is already there; returns ``root``.

    Layout: ``img_dir/{train,val}/NNNNN.png`` (BGR scenes) and ``ann_dir/{train,val}/NNNNN.png`` (class index
    masks). The data is built in a temporary folder beside ``root`` and renamed into place, under a lock file,
    so concurrent processes neither clash nor see half-written data.
    """
    root = Path(root)
    params = dict(version=FORMAT_VERSION, num_train=num_train, num_val=num_val, size=size, seed=seed)
    if min(num_train, num_val) < 1 or size < 32:
        raise ValueError(f'generate_shapes: need num_train, num_val >= 1 and size >= 32, got {params}.')
    if _already_generated(root, params):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.parent / f'.{root.name}.lock'):
        if _already_generated(root, params):  # another process finished while we waited
            return root
        tmp = Path(tempfile.mkdtemp(prefix=f'.{root.name}.tmp-', dir=root.parent))
        try:
            for split, split_id in _SPLITS:
                count = num_train if split == 'train' else num_val
                _write_split(tmp, split, split_id, count, size, seed)
            (tmp / META_FILE).write_text(json.dumps(params, indent=1))
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; the data is meant to be shared
            if root.is_dir() and not any(root.iterdir()):
                root.rmdir()
            try:
                os.rename(tmp, root)
            except OSError:  # without flock, another process may have renamed its copy first
                if not _already_generated(root, params):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _already_generated(root: Path, params: dict) -> bool:
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        return False
    meta = root / META_FILE
    if not meta.is_file():
        raise FileExistsError(f"'{root}' exists but holds no {META_FILE}, so it is not a generated shapes dataset; "
                              'move it away or point data_root elsewhere.')
    found = json.loads(meta.read_text())
    if found != params:
        raise ValueError(f"'{root}' holds shapes generated with {found}, but {params} was asked for; delete the "
                         'folder to regenerate it, or use the same settings.')
    return True


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(lock_path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_split(out: Path, split: str, split_id: int, count: int, size: int, seed: int) -> None:
    img_dir, ann_dir = out / 'img_dir' / split, out / 'ann_dir' / split
    img_dir.mkdir(parents=True)
    ann_dir.mkdir(parents=True)
    for idx in range(count):
        rng = np.random.default_rng([seed, split_id, idx])
        # The last (topmost) object cycles through the classes so that every class appears in any 5 scenes.
        img, mask = render_scene(rng, size, top_class=idx % (len(SHAPE_CLASSES) - 1) + 1)
        (img_dir / f'{idx:05d}.png').write_bytes(cv2.imencode('.png', img)[1].tobytes())
        (ann_dir / f'{idx:05d}.png').write_bytes(cv2.imencode('.png', mask)[1].tobytes())


def render_scene(rng: np.random.Generator, size: int, top_class: int) -> Tuple[np.ndarray, np.ndarray]:
    """One scene: (HxWx3 uint8 BGR image, HxW uint8 mask of class indices)."""
    img = _background(rng, size)
    mask = np.zeros((size, size), np.uint8)
    num_objects = int(rng.integers(1, 7))
    classes = rng.integers(1, len(SHAPE_CLASSES), size=num_objects)
    classes[-1] = top_class
    for cls in classes:
        radius = rng.uniform(0.07, 0.19) * size
        centre = rng.uniform(0.5 * radius, size - 0.5 * radius, size=2)
        region = _shape_mask(SHAPE_CLASSES[cls], size, centre, radius, rng.uniform(0, 180)) > 0
        if not region.any():
            continue
        img[region] = _object_fill(rng, img, centre, radius, size)[region]
        mask[region] = cls
    img += rng.normal(0, 6, size=img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (3, 3), 0)
    return img, mask


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A two-colour gradient with low-frequency blotches and a few thin clutter lines."""
    c0, c1 = rng.uniform(0, 255, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.clip(0.5 + (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle), 0, 1)[..., None]
    img = (c0 * (1 - t) + c1 * t).astype(np.float32)
    img += _low_freq_noise(rng, size, cells=6, amplitude=30)
    for _ in range(int(rng.integers(0, 5))):
        p0, p1 = rng.integers(0, size, size=(2, 2))
        cv2.line(img, tuple(map(int, p0)), tuple(map(int, p1)), rng.uniform(0, 255, size=3).tolist(),
                 int(rng.integers(1, 3)))
    return img


def _low_freq_noise(rng: np.random.Generator, size: int, cells: int, amplitude: float) -> np.ndarray:
    coarse = rng.normal(0, amplitude, size=(cells, cells, 3)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)


def _object_fill(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, radius: float,
                 size: int) -> np.ndarray:
    """A random colour that stands out from the local background, solid, striped or blotchy."""
    x0, y0 = np.maximum(centre - radius, 0).astype(int)
    x1, y1 = np.minimum(centre + radius, size).astype(int) + 1
    local = img[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    colour = rng.uniform(0, 255, size=3)
    for _ in range(20):
        if np.abs(colour - local).sum() > 120:
            break
        colour = rng.uniform(0, 255, size=3)
    fill = np.empty((size, size, 3), np.float32)
    fill[:] = colour
    style = rng.integers(0, 3)
    if style == 1:
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        theta, period = rng.uniform(0, np.pi), rng.uniform(4, 10)
        fill += (25 * np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period))[..., None]
    elif style == 2:
        fill += _low_freq_noise(rng, size, cells=12, amplitude=25)
    return fill


def _shape_mask(shape: str, size: int, centre: np.ndarray, radius: float, angle: float) -> np.ndarray:
    canvas = np.zeros((size, size), np.uint8)
    cx, cy = float(centre[0]), float(centre[1])
    c = (int(round(cx)), int(round(cy)))
    if shape == 'disk':
        cv2.circle(canvas, c, int(round(radius)), 1, -1)
    elif shape == 'ring':
        cv2.circle(canvas, c, int(round(radius)), 1, -1)
        cv2.circle(canvas, c, int(round(radius * 0.55)), 0, -1)
    elif shape == 'square':
        _fill_box(canvas, (cx, cy), (1.6 * radius, 1.6 * radius), angle)
    elif shape == 'cross':
        _fill_box(canvas, (cx, cy), (2.0 * radius, 0.6 * radius), angle)
        _fill_box(canvas, (cx, cy), (2.0 * radius, 0.6 * radius), angle + 90)
    elif shape == 'triangle':
        theta = np.deg2rad(angle) + np.arange(3) * 2 * np.pi / 3
        pts = np.stack([cx + 1.25 * radius * np.cos(theta), cy + 1.25 * radius * np.sin(theta)], axis=1)
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1)
    else:
        raise ValueError(f'unknown shape {shape!r}; known: {SHAPE_CLASSES[1:]}')
    return canvas


def _fill_box(canvas: np.ndarray, centre: Tuple[float, float], wh: Tuple[float, float], angle: float) -> None:
    pts = cv2.boxPoints((centre, wh, angle))
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1)
