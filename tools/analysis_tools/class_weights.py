"""Class weights for a config's training set: median frequency (Eigen & Fergus 2015, SegNet's CamVid recipe),
inverse square root of the pixel share, or ENet's log smoothing 1 / ln(c + p).

    python tools/analysis_tools/class_weights.py configs/deeplabv3plus/mobilenetv2_256x256_camvid.py --method enet

Prints every class's frequencies and the three weightings, then the chosen one as a list to paste into
``loss_decode=dict(type='CrossEntropyLoss', class_weight=[...])``.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmengine.registry import init_default_scope  # noqa: E402

from segkit.datasets.label_stats import WEIGHTINGS, class_weights, label_histograms  # noqa: E402
from segkit.engine.config_setup import load_config  # noqa: E402
from segkit.registry import DATASETS  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--method', choices=sorted(WEIGHTINGS), default='median',
                        help='the weighting printed as class_weight=[...] (default: median)')
    parser.add_argument('--enet-c', type=float, default=1.02, help="ENet's c in 1 / ln(c + p) (default 1.02)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    init_default_scope('segkit')
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    counts, image_pixels = label_histograms(dataset)
    weights = {m: class_weights(counts, image_pixels, m, enet_c=args.enet_c) for m in sorted(WEIGHTINGS)}
    share = counts.sum(axis=0) / max(counts.sum(), 1)
    print(f'{"class":>14s} {"pixel share":>11s} {"images":>6s} ' + ' '.join(f'{m:>8s}' for m in weights))
    for c, name in enumerate(dataset.metainfo['classes']):
        print(f'{name:>14s} {share[c]:11.4f} {int(np.count_nonzero(counts[:, c])):6d} '
              + ' '.join(f'{w[c]:8.3f}' for w in weights.values()))
    print('class_weight=[' + ', '.join(f'{w:.3f}' for w in weights[args.method]) + ']')


if __name__ == '__main__':
    main()
