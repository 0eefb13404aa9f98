"""Grid-search DenseCRF's appearance kernel on a few *training* images, as the DeepLab papers cross-validated it.

    python tools/analysis_tools/tune_crf.py CONFIG CHECKPOINT --num-images 10 \\
        --bi-w 3 4 5 --bi-xy-std 30 50 67 100 --bi-rgb-std 3 5 10

The network runs once per image; every (bi_w, bi_xy_std, bi_rgb_std) setting then refines the cached probabilities
(pos_w / pos_xy_std fixed at the papers' 3 / 3 unless given). Prints the mIoU of each setting on those images next to
no CRF, best first, and the ``--cfg-options`` that selects the best. Images are spread evenly over the split; keep
them out of the set you report on (the default is the config's training set).
"""
import argparse
import itertools
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from segkit.apis import init_model  # noqa: E402
from segkit.evaluation.metric_utils import intersect_and_union, summarize  # noqa: E402
from segkit.models.postprocessors import DenseCRF  # noqa: E402
from segkit.models.postprocessors.refine import source_image  # noqa: E402
from segkit.registry import DATASETS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'],
                        help="the config's <split>_dataloader to draw images from (default: train)")
    parser.add_argument('--num-images', type=int, default=10)
    parser.add_argument('--bi-w', type=float, nargs='+', default=[3, 4, 5])
    parser.add_argument('--bi-xy-std', type=float, nargs='+', default=[30, 50, 67, 100])
    parser.add_argument('--bi-rgb-std', type=float, nargs='+', default=[3, 5, 10])
    parser.add_argument('--pos-w', type=float, default=3)
    parser.add_argument('--pos-xy-std', type=float, default=3)
    parser.add_argument('--iterations', type=int, default=10)
    return parser.parse_args(argv)


def cached_predictions(model, dataset, num_images: int):
    """(probabilities, RGB image, label) of ``num_images`` images spread evenly over ``dataset``."""
    indices = np.linspace(0, len(dataset) - 1, num=min(num_images, len(dataset))).round().astype(int)
    cases = []
    with torch.no_grad():
        for index in dict.fromkeys(indices.tolist()):
            sample = model.test_step(pseudo_collate([dataset[index]]))[0]
            cases.append((sample.seg_logits.data.softmax(0), source_image(sample.metainfo),
                          sample.gt_sem_seg.data[0]))
    return cases


def miou(predictions, cases, num_classes: int) -> float:
    totals = [sum(areas) for areas in zip(*(intersect_and_union(pred=pred, label=label, num_classes=num_classes)
                                            for pred, (_, _, label) in zip(predictions, cases)))]
    summary, _ = summarize(total_intersect=totals[0], total_union=totals[1], total_pred=totals[2],
                           total_label=totals[3])
    return summary['mIoU']


def main(argv=None):
    args = parse_args(argv)
    init_default_scope('segkit')
    model = init_model(args.config, args.checkpoint, cfg_options={'model.test_cfg.crf': None})
    dataset_cfg = dict(model.cfg[f'{args.split}_dataloader'].dataset)
    dataset_cfg['pipeline'] = model.cfg.test_dataloader.dataset.pipeline  # no random augmentation
    cases = cached_predictions(model, DATASETS.build(dataset_cfg), args.num_images)
    num_classes = model.num_classes
    rows = [(miou([p.argmax(0) for p, _, _ in cases], cases, num_classes), 'no CRF', None)]
    for bi_w, bi_xy_std, bi_rgb_std in itertools.product(args.bi_w, args.bi_xy_std, args.bi_rgb_std):
        params = dict(iterations=args.iterations, pos_w=args.pos_w, pos_xy_std=args.pos_xy_std, bi_w=bi_w,
                      bi_xy_std=bi_xy_std, bi_rgb_std=bi_rgb_std)
        crf = DenseCRF(**params)
        score = miou([crf(probs, image).argmax(0) for probs, image, _ in cases], cases, num_classes)
        rows.append((score, f'bi_w={bi_w:g} bi_xy_std={bi_xy_std:g} bi_rgb_std={bi_rgb_std:g}', params))
        print(f'{rows[-1][1]}: mIoU {score:.2f}', flush=True)
    print(f'\n{len(cases)} {args.split} images, best first:')
    for score, name, _ in sorted(rows, key=lambda row: -row[0]):
        print(f'  {score:6.2f}  {name}')
    best = max((row for row in rows if row[2]), key=lambda row: row[0])[2]
    print('best: --crf --cfg-options ' + ' '.join(f'model.test_cfg.crf.{k}={v:g}' for k, v in best.items()
                                                  if k.startswith('bi_')))
    return rows


if __name__ == '__main__':
    main()
