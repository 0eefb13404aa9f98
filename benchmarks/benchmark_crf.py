"""Time DenseCRF post-processing (10 mean-field iterations) per image and print seconds per image.

    python benchmarks/benchmark_crf.py [--threads 2] [--image data/camvid/val/0016E5_07959.png]

Each case is an image of the given size (the ``--image`` file resized to it, else a synthetic scene of flat
colour regions with noise) and coarse probabilities like a network's: random logits at 1/8 resolution,
bilinearly upsampled. Reported: the best of ``--repeats`` runs of the lattice route (segkit's own) and, when the
optional ``pydensecrf2`` package is installed, of the pydensecrf route (its C++ code is single-threaded), with the
number of lattice points. Wall-clock seconds, and the process CPU seconds of that run: on a shared machine the CPU
time is the steadier figure.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's segkit

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from segkit.models.postprocessors import DenseCRF  # noqa: E402
from segkit.models.postprocessors.dense_crf import _BilateralGaussian  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='benchmark DenseCRF speed')
    parser.add_argument('--sizes', nargs='+', default=['480x360', '512x512'], help='WxH of each case')
    parser.add_argument('--classes', nargs='+', type=int, default=[11, 21])
    parser.add_argument('--iterations', type=int, default=10)
    parser.add_argument('--image', help='RGB image to resize to each size (default: a synthetic scene)')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs; the best is reported')
    parser.add_argument('--threads', type=int, default=None, help="torch intra-op threads (default: torch's own)")
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def make_image(path: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    if path:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'benchmark_crf: cannot read --image {path}')
        return np.ascontiguousarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)[..., ::-1])
    regions = cv2.resize(rng.integers(0, 256, (h // 40 + 1, w // 40 + 1, 3), dtype=np.uint8), (w, h),
                         interpolation=cv2.INTER_NEAREST)
    return np.clip(regions + rng.normal(0, 8, regions.shape), 0, 255).astype(np.uint8)


def make_probs(num_classes: int, w: int, h: int, generator: torch.Generator) -> torch.Tensor:
    coarse = torch.randn(1, num_classes, -(-h // 8), -(-w // 8), generator=generator) * 3
    return F.interpolate(coarse, size=(h, w), mode='bilinear', align_corners=False)[0].softmax(0)


def best_time(crf: DenseCRF, probs: torch.Tensor, image: np.ndarray, repeats: int) -> str:
    """Best wall-clock seconds and the process CPU seconds (all threads) of that run."""
    times = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        crf(probs, image)
        if probs.is_cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    wall, cpu = min(times)
    return f'{wall:.3f} s (cpu {cpu:.3f} s)'


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        import pydensecrf  # noqa: F401
        backends = ['lattice', 'pydensecrf']
    except ImportError:
        backends = ['lattice']
        print('pydensecrf2 is not installed: timing the lattice route only')
    rng, generator = np.random.default_rng(0), torch.Generator().manual_seed(0)
    print(f'torch threads {torch.get_num_threads()}, {args.iterations} mean-field iterations, device {args.device}')
    for size in args.sizes:
        w, h = (int(v) for v in size.split('x'))
        image = make_image(args.image, w, h, rng)
        points = _BilateralGaussian(torch.from_numpy(image), 67., 3.).lattice.num_points
        for num_classes in args.classes:
            probs = make_probs(num_classes, w, h, generator).to(args.device)
            row = [f'{w}x{h} ({w * h} px, {points} lattice points), {num_classes} classes:']
            for backend in backends:
                crf = DenseCRF(iterations=args.iterations, backend=backend)
                crf(probs, image)  # warm-up
                row.append(f'{backend} {best_time(crf, probs, image, args.repeats)}')
            print(' '.join(row))


if __name__ == '__main__':
    main()
