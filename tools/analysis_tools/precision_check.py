"""What a speed option costs in accuracy on a trained model: mIoU, per-class IoU, pixel agreement with fp32, time.

    python tools/analysis_tools/precision_check.py CONFIG CHECKPOINT [--variants fp32 bf16 openvino-int8 ...]
        [--calibration data/camvid/train] [--num-images N]

Each variant is the config's model with inference options (``model.test_cfg`` keys and ``model.channels_last``,
the same keys ``--cfg-options`` sets for tools/test.py), nothing else turned on; all run over the config's
validation set, one image at a time as tools/test.py does. The
first variant is the reference that agreement is counted against (default ``fp32``: plain eager float32). Time
per image is the median over the images after the first (which builds, exports or calibrates the fast path).
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

FAST = {'test_cfg.fuse_bn': True, 'channels_last': True}
VARIANTS = {
    'fp32': {},
    'fp32-fused': FAST,
    'bf16': {**FAST, 'test_cfg.autocast': 'bfloat16'},
    'onnxruntime': {'test_cfg.backend': dict(type='onnxruntime')},
    'openvino': {'test_cfg.backend': dict(type='openvino')},
    'openvino-bf16': {'test_cfg.backend': dict(type='openvino', precision='bf16')},
    'openvino-int8': {'test_cfg.backend': dict(type='openvino', precision='int8')},  # + --calibration images
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--variants', nargs='+', default=['fp32', 'bf16', 'openvino-bf16', 'openvino-int8'],
                        choices=sorted(VARIANTS))
    parser.add_argument('--calibration', help='int8: folder or list file of training images (default: the '
                        "config's train_dataloader image folder)")
    parser.add_argument('--calibration-num', type=int, default=32)
    parser.add_argument('--num-images', type=int, default=None, help='only the first N validation images')
    return parser.parse_args(argv)


def train_image_folder(cfg) -> str:
    dataset = cfg.train_dataloader.dataset
    dataset = dataset.get('dataset', dataset)  # through RepeatDataset-style wrappers
    return os.path.join(dataset.get('data_root', ''), dataset.get('data_prefix', {}).get('img_path', ''))


def evaluate(model, dataset, num_images: int):
    """Predicted label maps, per-class areas summed over the images, and seconds per image."""
    from mmengine.dataset import pseudo_collate

    from segkit.evaluation.metric_utils import intersect_and_union
    k = model.num_classes
    totals = [torch.zeros(k, dtype=torch.int64) for _ in range(4)]
    preds, times = [], []
    for i in range(num_images):
        data = pseudo_collate([dataset[i]])
        start = time.perf_counter()
        with torch.no_grad():
            sample = model.test_step(data)[0]
        times.append(time.perf_counter() - start)
        pred = sample.pred_sem_seg.data[0]
        preds.append(pred.to(torch.uint8).numpy())
        areas = intersect_and_union(pred=pred, label=sample.gt_sem_seg.data[0], num_classes=k,
                                    ignore_index=dataset.ignore_index)
        for total, area in zip(totals, areas):
            total += area.cpu()
    return preds, totals, statistics.median(times[1:] or times)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config

    from segkit.apis import init_model
    from segkit.evaluation.metric_utils import summarize
    from segkit.registry import DATASETS
    cfg = Config.fromfile(args.config)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    num_images = min(args.num_images or len(dataset), len(dataset))
    calibration = dict(images=args.calibration or train_image_folder(cfg), num=args.calibration_num)
    rows, reference, classes = [], None, None
    for name in args.variants:
        options = {f'model.{key}': value for key, value in VARIANTS[name].items()}
        if name == 'openvino-int8':
            options['model.test_cfg.backend'] = dict(VARIANTS[name]['test_cfg.backend'], calibration=calibration)
        model = init_model(args.config, args.checkpoint, cfg_options=options, fast=False)
        classes = model.dataset_meta.get('classes') or [str(i) for i in range(model.num_classes)]
        preds, totals, seconds = evaluate(model, dataset, num_images)
        summary, per_class = summarize(total_intersect=totals[0], total_union=totals[1], total_pred=totals[2],
                                       total_label=totals[3])
        if reference is None:
            reference = preds
        agree = np.mean([np.mean(a == b) for a, b in zip(preds, reference)])
        rows.append((name, summary['mIoU'], 100 * agree, seconds, per_class['IoU']))
        print(f"{name:<15} mIoU {summary['mIoU']:.2f}  agreement with {args.variants[0]} {100 * agree:.3f} %  "
              f'{1e3 * seconds:.0f} ms/image', flush=True)
    print(f'\n{num_images} validation images of {args.config}, checkpoint {args.checkpoint}')
    print('| variant | mIoU | change | pixels as ' + args.variants[0] + ' | ms / image |\n|---|---|---|---|---|')
    for name, miou, agree, seconds, _ in rows:
        print(f'| {name} | {miou:.2f} | {miou - rows[0][1]:+.2f} | {agree:.3f} % | {1e3 * seconds:.0f} |')
    print('\n| class | ' + ' | '.join(r[0] for r in rows) + ' |\n|---|' + '---|' * len(rows))
    for c, name in enumerate(classes):
        print(f'| {name} | ' + ' | '.join(f'{r[4][c]:.2f}' for r in rows) + ' |')


if __name__ == '__main__':
    main()
