"""Median-frequency class weights (Eigen & Fergus 2015, used by SegNet on CamVid) for a config's training set.

    python tools/analysis_tools/class_weights.py configs/deeplabv3plus/mobilenetv2_256x256_camvid.py

weight_c = median(freq) / freq_c, where freq_c = pixels of class c / pixels of the images that contain c.
Prints the weights as a list to paste into ``loss_decode=dict(type='CrossEntropyLoss', class_weight=[...])``.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmengine.registry import init_default_scope  # noqa: E402

from segkit.engine.config_setup import load_config  # noqa: E402
from segkit.registry import DATASETS  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    init_default_scope('segkit')
    dataset_cfg = dict(cfg.train_dataloader.dataset)
    dataset_cfg['pipeline'] = [dict(type='LoadAnnotations')]
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']
    num = len(classes)
    pixels = np.zeros(num, np.int64)
    image_pixels = np.zeros(num, np.int64)
    for i in range(len(dataset)):
        label = dataset.get_data_info(i)
        seg = dataset.pipeline(label)['gt_seg_map']
        counts = np.bincount(seg[seg < num].ravel(), minlength=num)
        pixels += counts
        image_pixels += (counts > 0) * seg.size
    freq = pixels / np.maximum(image_pixels, 1)
    weights = np.median(freq[freq > 0]) / np.maximum(freq, 1e-12)
    for name, f, w in zip(classes, freq, weights):
        print(f'{name:>12s}  freq {f:.4f}  weight {w:.3f}')
    print('class_weight=[' + ', '.join(f'{w:.3f}' for w in weights) + ']')


if __name__ == '__main__':
    main()
