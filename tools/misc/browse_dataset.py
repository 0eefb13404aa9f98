"""See what the model is trained on: samples after the config's train pipeline, with their ground truth drawn.

    python tools/misc/browse_dataset.py CONFIG --out DIR [--num 20] [--split train|val|test] [--cfg-options k=v]

Each ``DIR/<index>_<image stem>.png`` is the augmented image (crop, flip, photometric distortion...) beside the
same image with the label map blended in the dataset's palette (ignored pixels left as they are). Multi-band or
16-bit images are drawn through three bands: ``--bands 3 2 1`` (red, green, blue), else the dataset's
``metainfo['display_bands']``, else the first three (see segkit.visualization.display_image).
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from segkit.engine.config_setup import load_config  # noqa: E402
from segkit.registry import DATASETS  # noqa: E402
from segkit.visualization import display_image, draw_overlay, get_palette  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', required=True, help='folder for the PNGs')
    parser.add_argument('--num', type=int, default=20, help='how many samples (from the first)')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--alpha', type=float, default=0.5, help='weight of the class colour')
    parser.add_argument('--bands', type=int, nargs='+', help='bands shown as red, green, blue (or one: grey)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'segkit'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    meta = dataset.metainfo
    palette = get_palette(palette=meta.get('palette'), classes=meta['classes'])
    ignore_index = meta.get('ignore_index', 255)
    os.makedirs(args.out, exist_ok=True)
    written = []
    for index in range(min(args.num, len(dataset))):
        packed = dataset[index]
        image = np.ascontiguousarray(packed['inputs'].numpy().transpose(1, 2, 0))  # CHW -> HWC, as loaded
        image = display_image(image, args.bands or meta.get('display_bands'))
        sample = packed['data_samples']
        gt = sample.gt_sem_seg.data[0] if 'gt_sem_seg' in sample else np.full(image.shape[:2], ignore_index)
        panel = np.concatenate([image, draw_overlay(image, gt, palette, alpha=args.alpha,
                                                    ignore_index=ignore_index)], axis=1)
        stem = osp.splitext(osp.basename(sample.metainfo.get('img_path', f'{index}')))[0]
        path = osp.join(args.out, f'{index:04d}_{stem}.png')
        cv2.imwrite(path, panel)
        written.append(path)
    print(f'{len(written)} samples of the {args.split} pipeline written to {args.out}')
    return written


if __name__ == '__main__':
    main()
