"""Time a metric's process + compute_metrics on random predictions and print images per second.

    python benchmarks/benchmark_metric.py --num-images 100 --size 512 --num-classes 21 [--threads 1]
    python benchmarks/benchmark_metric.py --metric BoundaryIoUMetric  # trimap mIoU, widths 2-40

Random label maps are the worst case for BoundaryIoUMetric: nearly every pixel is a boundary pixel.
"""
import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this checkout's segkit

import torch  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from segkit.evaluation import BoundaryIoUMetric, IoUMetric  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='benchmark IoUMetric speed')
    parser.add_argument('--metric', choices=['IoUMetric', 'BoundaryIoUMetric'], default='IoUMetric')
    parser.add_argument('--num-images', type=int, default=100)
    parser.add_argument('--size', type=int, default=512, help='height and width of each map')
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument('--repeats', type=int, default=3, help='timed runs; the best is reported')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s own); 1 avoids contention on busy machines')
    return parser.parse_args()


def make_samples(*, num_images: int, size: int, num_classes: int, seed: int) -> list:
    """Dict data samples (as mmengine's Evaluator passes them) with ~5 % ignored label pixels."""
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(num_images):
        label = torch.randint(0, num_classes, (1, size, size), generator=generator)
        label[torch.rand(label.shape, generator=generator) < 0.05] = 255
        pred = torch.randint(0, num_classes, (1, size, size), generator=generator)
        samples.append(dict(img_path=f'{i}.jpg', gt_sem_seg=dict(data=label), pred_sem_seg=dict(data=pred)))
    return samples


def run_once(*, metric, samples: list) -> float:
    """Seconds for process (in batches of 1, as the test loop runs) plus compute_metrics."""
    start = time.perf_counter()
    for sample in samples:
        metric.process(None, [sample])
    metric.compute_metrics(metric.results)
    elapsed = time.perf_counter() - start
    metric.results.clear()
    return elapsed


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    MMLogger.get_instance('benchmark_metric').setLevel(logging.WARNING)  # keep the per-class table quiet
    metric_type = {'IoUMetric': IoUMetric, 'BoundaryIoUMetric': BoundaryIoUMetric}[args.metric]
    metric = metric_type(prefix='bench', num_classes=args.num_classes)
    samples = make_samples(num_images=args.num_images, size=args.size, num_classes=args.num_classes,
                           seed=args.seed)
    best = min(run_once(metric=metric, samples=samples) for _ in range(args.repeats))
    print(f'{args.metric}: {args.num_images} images of {args.size}x{args.size}, {args.num_classes} classes, '
          f'torch threads {torch.get_num_threads()}: {best:.3f} s, {args.num_images / best:.1f} img/s')


if __name__ == '__main__':
    main()
