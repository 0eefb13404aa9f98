"""One timed workload, for segkit or MMSegmentation, under the protocol of ../shared/peers/time_forward.py.

    python benchmarks/peer_workloads.py train-step segkit [--config C] [--batch 2] [--size 256] [--bf16]
    PYTHONPATH=../shared/peers /tmp/peer_mmseg/bin/python benchmarks/peer_workloads.py train-step mmseg
    ... pipeline {segkit,mmseg} [--data-root ../shared/data/camvid] [--num 60] [--decoded-cache]
    ... metric {segkit,mmseg} [--num 100] [--size 512]
    ... forward {segkit,mmseg} [--size 512] [--output-stride 8|16]   (DeepLabv3+ R50, as time_forward.py)

Runs in either framework's environment (only the one named is imported) and prints one JSON line, so
``compare_mmseg.py`` can alternate the two and compare medians from the same run.

- ``train-step``: ``model.train_step`` as mmengine's loop calls it (data preprocessor, decode + auxiliary head
  losses, backward, SGD with momentum 0.9) on random uint8 images and random labels, random weights, BN; median of
  ``--iters`` after 3 warm-ups. ``--bf16`` trains segkit under CPU bfloat16 autocast (``AutocastOptimWrapper``),
  ``--compile`` compiled (``train_cfg.compile=True``; ``compile_s``: the first step's time less the median);
  ``peak_rss_mib``: the process's peak resident memory.
- ``pipeline``: ``dataset[i]`` of a CamVid-layout folder through the CamVid train pipeline (load, RandomResize
  0.5-2.0, RandomCrop 256 with cat_max_ratio 0.75, flip, photometric distortion, pack), one process; images/s
  over ``--num`` images after 5 warm-ups. ``--decoded-cache`` (segkit only) builds the dataset with
  ``decoded_cache=True``: every image and mask is decoded once when the dataset is built (that time is reported as
  ``cache_build_s``, not counted in images/s) and the timed steps run only the random transforms.
- ``forward``: ``encode_decode`` of 1 x 3 x S x S as ``../shared/peers/time_forward.py`` times it, with the
  output stride switchable in both frameworks (MMSegmentation: ResNet strides/dilations and ASPP rates of its
  OS16 form) and the process's peak resident memory.
- ``metric``: IoUMetric ``process`` (one sample per call, as the test loop) + ``compute_metrics`` over ``--num``
  random ``--size`` square predictions of 21 classes with 5 % ignored labels; best of 3, images/s.
"""
import argparse
import json
import logging
import os
import resource
import statistics
import sys
import time

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(os.path.dirname(REPO), 'shared', 'peers')
NUM_CLASSES = 21
CAMVID_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(256, 256), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]


def import_framework(framework: str):
    """(SegDataSample class, IoUMetric class, MODELS registry); sets the default scope."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    if framework == 'mmseg':
        sys.path.insert(0, PEERS)
        import mmcv_ops_shim  # noqa: F401  (before mmseg: see ../shared/peers/README.md)
        from mmseg.evaluation import IoUMetric
        from mmseg.registry import MODELS
        from mmseg.structures import SegDataSample
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=True)
        return SegDataSample, IoUMetric, MODELS
    sys.path.insert(0, REPO)
    from mmengine.registry import init_default_scope

    import segkit  # noqa: F401
    from segkit.evaluation import IoUMetric
    from segkit.registry import SEGMENTORS
    from segkit.structures import SegDataSample
    init_default_scope('segkit')
    return SegDataSample, IoUMetric, SEGMENTORS


def build_model(framework: str, config: str, cfg_options):
    sys.path.insert(0, PEERS)
    from time_forward import build_mmseg, build_segkit  # the forward timer's model building, as is
    if framework == 'mmseg':
        return build_mmseg('deeplabv3plus', config)[0]
    return build_segkit(config, cfg_options)[0]


def mmseg_output_stride_16(cfg) -> None:
    """MMSegmentation's DeepLabv3+ R50-D8 config edited to output stride 16 (its ResNetV1c argument form)."""
    cfg.model.backbone.update(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))
    cfg.model.decode_head.dilations = (1, 6, 12, 18)


def forward(args) -> dict:
    import_framework(args.framework)
    sys.path.insert(0, PEERS)
    import time_forward
    torch.manual_seed(0)
    if args.framework == 'mmseg':
        from mmengine.config import Config
        fromfile = Config.fromfile
        if args.output_stride == 16:  # time_forward builds from the file: edit what it reads
            def edited(*a, **k):
                cfg = fromfile(*a, **k)
                mmseg_output_stride_16(cfg)
                return cfg
            Config.fromfile = edited
        model, run = time_forward.build_mmseg('deeplabv3plus')
        Config.fromfile = fromfile
    else:
        options = dict(args.cfg_options or {}, **{'model.output_stride': args.output_stride})
        model, run = time_forward.build_segkit(args.config, options)
    model.eval()
    x = torch.randn(1, 3, args.size, args.size)
    times = []
    with torch.inference_mode():
        for i in range(3 + args.iters):
            start = time.perf_counter()
            run(x)
            if i >= 3:
                times.append((time.perf_counter() - start) * 1e3)
    return dict(size=args.size, output_stride=args.output_stride, median_ms=round(statistics.median(times), 1),
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def random_batch(data_sample_type, batch: int, size: int, num_classes: int):
    """``batch`` random uint8 images and random labels below ``num_classes``, as a training step receives them."""
    from mmengine.structures import PixelData
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8) for _ in range(batch)]
    meta = dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size))
    samples = [data_sample_type(gt_sem_seg=PixelData(data=torch.randint(0, num_classes, (1, size, size))),
                                metainfo=dict(meta)) for _ in range(batch)]
    return inputs, samples


def train_step(args) -> dict:
    from mmengine.optim import OptimWrapper
    data_sample_type, _, _ = import_framework(args.framework)
    torch.manual_seed(0)
    model = build_model(args.framework, args.config, args.cfg_options).train()
    model.data_preprocessor.size = (args.size, args.size)  # the crop trained here, not the config's (512)
    if args.plain_convolutions:
        from segkit.models.fast_conv import plain_convolutions
        plain_convolutions(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    if args.bf16:
        from segkit.engine.optim_wrapper import AutocastOptimWrapper
        wrapper = AutocastOptimWrapper(optimizer=optimizer, dtype='bfloat16', device_type='cpu')
    else:
        wrapper = OptimWrapper(optimizer=optimizer)
    compile_s = None
    if args.compile:
        from segkit.engine.compile import compile_training, resolve_compile
        compiled = compile_training(model, resolve_compile(True))
    inputs, samples = random_batch(data_sample_type, args.batch, args.size, NUM_CLASSES)
    times = []
    for i in range(3 + args.iters):
        start = time.perf_counter()
        model.train_step(dict(inputs=inputs, data_samples=samples), wrapper)
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3)
        elif i == 0 and args.compile:
            compile_s = time.perf_counter() - start
    if args.profile:
        print_profile(lambda: model.train_step(dict(inputs=inputs, data_samples=samples), wrapper), args.profile)
    median = statistics.median(times)
    extra = {}
    if args.compile:  # the first step's time less a compiled step's: what compiling forward + backward took
        extra = dict(compile_s=round(compile_s - median / 1e3, 1), graph_breaks=compiled.graph_breaks,
                     compile_fallback=compiled.fallback)
    return dict(median_ms=round(median, 1), min_ms=round(min(times), 1),
                images_per_s=round(args.batch * 1e3 / median, 2),
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), **extra)


def print_profile(step, rows: int, out=None) -> None:
    """Share of a step's self CPU time per operator (torch.profiler over 2 steps), to stderr: Inductor's
    generated kernels are grouped as one row (``inductor kernels``)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            step()
    out = out or sys.stderr
    shares = {}
    for event in prof.key_averages():
        name = event.key
        if name.startswith(('cpp_fused', 'triton_', 'kernel_cpp')) or ('fused' in name and not name.startswith('aten')):
            name = 'inductor kernels'
        shares[name] = shares.get(name, 0.0) + event.self_cpu_time_total
    total = sum(shares.values())
    for name, value in sorted(shares.items(), key=lambda kv: -kv[1])[:rows]:
        print(f'  {100 * value / total:5.1f} %  {value / 2e3:8.1f} ms/step  {name}', file=out)


def pipeline(args) -> dict:
    import_framework(args.framework)
    classes = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol', 'Fence', 'Car', 'Pedestrian',
               'Bicyclist')
    common = dict(data_root=args.data_root, data_prefix=dict(img_path='train', seg_map_path='trainannot'),
                  pipeline=CAMVID_PIPELINE)
    if args.framework == 'mmseg':
        from mmseg.datasets import BaseSegDataset
        dataset = BaseSegDataset(img_suffix='.png', seg_map_suffix='.png', metainfo=dict(classes=classes),
                                 ignore_index=11, **common)
    else:
        from segkit.datasets import CamVidDataset
        start = time.perf_counter()
        dataset = CamVidDataset(ann_file='train.txt', decoded_cache=args.decoded_cache or None, **common)
        build_s = time.perf_counter() - start
    np.random.seed(0)
    for i in range(5):
        dataset[i]
    start = time.perf_counter()
    for i in range(args.num):
        dataset[5 + i % (len(dataset) - 5)]
    elapsed = time.perf_counter() - start
    extra = dict(decoded_cache=True, cache_build_s=round(build_s, 2)) if args.decoded_cache else {}
    return dict(images=args.num, seconds=round(elapsed, 3), images_per_s=round(args.num / elapsed, 1), **extra)


def metric(args) -> dict:
    _, metric_type, _ = import_framework(args.framework)
    generator = torch.Generator().manual_seed(0)
    samples = []
    for i in range(args.num):
        label = torch.randint(0, NUM_CLASSES, (1, args.size, args.size), generator=generator)
        label[torch.rand(label.shape, generator=generator) < 0.05] = 255
        pred = torch.randint(0, NUM_CLASSES, (1, args.size, args.size), generator=generator)
        samples.append(dict(img_path=f'{i}.png', gt_sem_seg=dict(data=label), pred_sem_seg=dict(data=pred)))
    evaluator = metric_type(iou_metrics=['mIoU'])
    evaluator.dataset_meta = dict(classes=[str(c) for c in range(NUM_CLASSES)])
    best = float('inf')
    for _ in range(3):
        start = time.perf_counter()
        for sample in samples:
            evaluator.process({}, [sample])
        evaluator.compute_metrics(evaluator.results)
        best = min(best, time.perf_counter() - start)
        evaluator.results.clear()
    return dict(images=args.num, seconds=round(best, 3), images_per_s=round(args.num / best, 1))


def main(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workload', choices=['train-step', 'pipeline', 'metric', 'forward'])
    parser.add_argument('framework', choices=['segkit', 'mmseg'])
    parser.add_argument('--config', help='segkit: a segkit config; mmseg: a config under its configs/ folder '
                        '(default: the DeepLabv3+ R50-D8 base model of each)')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--size', type=int, default=None, help='train-step: crop side (256); metric: map side (512)')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--output-stride', type=int, default=8, choices=[8, 16], help='forward: 8 or 16')
    parser.add_argument('--bf16', action='store_true', help='train-step, segkit: CPU bfloat16 autocast')
    parser.add_argument('--profile', type=int, default=0, metavar='ROWS',
                        help='train-step: also print the top ROWS operators by share of self CPU time (stderr)')
    parser.add_argument('--compile', action='store_true',
                        help='train-step, segkit: compiled training step (train_cfg.compile=True)')
    parser.add_argument('--plain-convolutions', action='store_true',
                        help='train-step, segkit: every convolution a plain nn.Conv2d (no atrous / depthwise routes)')
    parser.add_argument('--num', type=int, default=None, help='pipeline: images (60); metric: predictions (100)')
    parser.add_argument('--decoded-cache', action='store_true',
                        help='pipeline, segkit: decode the CamVid images and masks once (decoded_cache=True)')
    parser.add_argument('--data-root', default=os.path.join(os.path.dirname(REPO), 'shared', 'data', 'camvid'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='segkit: override config keys')
    args = parser.parse_args(argv)
    if args.framework == 'segkit' and args.config is None:
        args.config = os.path.join(REPO, 'configs', 'deeplabv3plus', 'r50_512x512_voc.py')
    if args.decoded_cache and (args.framework == 'mmseg' or args.workload != 'pipeline'):
        parser.error('--decoded-cache is for the pipeline workload of segkit (MMSegmentation has no such cache)')
    if args.compile and args.framework == 'mmseg':
        parser.error("--compile is segkit's train_cfg.compile")
    if args.plain_convolutions and (args.framework == 'mmseg' or args.workload != 'train-step'):
        parser.error('--plain-convolutions is for the train-step workload of segkit')
    if args.bf16 and args.framework == 'mmseg':
        parser.error('--bf16 is measured for segkit only (the targets compare against MMSegmentation fp32)')
    defaults = {'train-step': (256, None), 'pipeline': (None, 60), 'metric': (512, 100),
                'forward': (512, None)}[args.workload]
    args.size = args.size or defaults[0]
    args.num = args.num or defaults[1]
    run = {'train-step': train_step, 'pipeline': pipeline, 'metric': metric, 'forward': forward}[args.workload]
    result = run(args)
    print(json.dumps(dict(workload=args.workload, framework=args.framework, config=args.config,
                          bf16=args.bf16, threads=torch.get_num_threads(), **result)))


if __name__ == '__main__':
    main()
