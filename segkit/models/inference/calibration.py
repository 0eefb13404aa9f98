"""Ready network inputs for int8 post-training quantization (``test_cfg.backend.calibration``).

The segmentor reads the calibration images and puts them through its own data preprocessor; the runtime only
receives the batches (:mod:`segkit.deployment.runtime_net`), so it needs to know nothing of files or segmentors.
"""
import os
from pathlib import Path
from typing import Callable, List, Union

import mmcv
import numpy as np
import torch

from .options import Calibration

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
WHERE = 'model.test_cfg.backend.calibration'


def calibration_paths(images: str, num: int) -> List[str]:
    """Up to ``num`` image paths from a folder (recursive, sorted, evenly spread) or a text file of paths."""
    source = Path(images)
    if source.is_dir():
        paths = sorted(str(p) for p in source.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
    elif source.is_file():
        lines = [line.split()[0] for line in source.read_text().splitlines() if line.strip()]
        paths = [p if os.path.isabs(p) else str(source.parent / p) for p in lines]
    else:
        raise FileNotFoundError(f'{WHERE}.images: {images} is neither a folder nor a list file')
    if not paths:
        raise FileNotFoundError(f'{WHERE}.images: no images ({", ".join(IMAGE_SUFFIXES)}) under {images}')
    step = max(1, len(paths) // num)
    return paths[::step][:num]


def calibration_batches(calibration: Union[str, Calibration], preprocess: Callable[[torch.Tensor], torch.Tensor],
                        example: torch.Tensor) -> List[torch.Tensor]:
    """Network inputs (1 x C x H x W float32, on the CPU) for int8 calibration.

    ``preprocess`` turns a loaded ``3 x H x W`` uint8 BGR image into the network's input batch (the segmentor's
    data preprocessor); ``'random'`` gives 8 inputs of noise shaped like ``example`` (for timing only).
    """
    if calibration == 'random':
        generator = torch.Generator().manual_seed(0)
        return [torch.randn(example.shape[1:], generator=generator)[None] for _ in range(8)]
    batches = []
    for path in calibration_paths(calibration.images, calibration.num):
        image = mmcv.imread(path)  # BGR uint8, as the test pipeline loads it
        if image is None:
            raise OSError(f'{WHERE}: cannot read image {path}')
        chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        batches.append(preprocess(chw).detach().float().cpu().contiguous())
    return batches
