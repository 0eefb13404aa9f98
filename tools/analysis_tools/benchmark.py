"""Time a config's forward pass (inference) or training step on this machine.

    python tools/analysis_tools/benchmark.py configs/deeplabv3plus/r50_512x512_voc.py --size 512
    python tools/analysis_tools/benchmark.py CONFIG --train --batch 2 --size 256
    python tools/analysis_tools/benchmark.py CONFIG --cfg-options model.test_cfg.fuse_bn=True \
        model.channels_last=True model.test_cfg.autocast=bfloat16
    python tools/analysis_tools/benchmark.py CONFIG --size 512 --flops --markdown   # + GFLOPs, params; a table row

Protocol as ../shared/peers/time_forward.py: random weights (seed 0), BN instead of SyncBN, 3 warm-up runs, median
of --iters timed runs, torch threads = --threads. Prints one JSON line. Compare against MMSegmentation with the
peers timer in the same session (alternate A B A B), since CPU load moves these numbers by 5-8 %.
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('config')
    ap.add_argument('--size', type=int, default=512, help='square input side')
    ap.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), help='input height and width (instead of --size)')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--iters', type=int, default=10)
    ap.add_argument('--threads', type=int, default=int(os.environ.get('BENCH_THREADS', 2)))
    ap.add_argument('--train', action='store_true', help='time forward + backward + SGD step instead')
    ap.add_argument('--channels-last', action='store_true', help='channels-last weights and inputs')
    ap.add_argument('--bf16', action='store_true', help='bfloat16 autocast (CPU)')
    ap.add_argument('--num-classes', type=int, default=21)
    ap.add_argument('--flops', action='store_true',
                    help="also count the model's multiply-adds ('GFLOPs') and parameters, as get_flops.py does")
    ap.add_argument('--markdown', action='store_true',
                    help='also print a markdown table row: config | ms per forward | GFLOPs | parameters')
    from mmengine.config import DictAction
    ap.add_argument('--cfg-options', nargs='+', action=DictAction,
                    help='override config keys, e.g. the inference speed options model.test_cfg.fuse_bn=True')
    args = ap.parse_args(argv)
    h, w = args.shape or (args.size, args.size)

    import torch
    torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope

    from segkit.engine.config_setup import load_config, replace_sync_bn
    from segkit.registry import SEGMENTORS
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope('segkit')
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)
    for head in [model_cfg.decode_head] + ([model_cfg.auxiliary_head] if model_cfg.get('auxiliary_head') else []):
        head.num_classes = args.num_classes
        head.pop('loss_decode', None)  # class weights are tied to the dataset's class count
    torch.manual_seed(0)
    model = SEGMENTORS.build(model_cfg)
    counted = _count_flops(model, (h, w)) if args.flops or args.markdown else {}
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(args.batch, 3, h, w).contiguous(memory_format=fmt)
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                  padding_size=[0, 0, 0, 0])] * args.batch
    autocast = torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16)
    if args.train:
        model.train()
        labels = torch.randint(0, args.num_classes, (args.batch, h, w))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            with autocast:
                logits = model.encode_decode(x, metas)
                loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode(), autocast:
                model.encode_decode(x, metas)
    times = []
    for i in range(3 + args.iters):
        t0 = time.perf_counter()
        step()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1e3)
    import resource
    median = statistics.median(times)
    result = dict(config=args.config, mode='train' if args.train else 'forward', shape=[h, w], batch=args.batch,
                  threads=args.threads, channels_last=args.channels_last, bf16=args.bf16,
                  cfg_options=args.cfg_options and {k: str(v) for k, v in args.cfg_options.items()},
                  median_ms=round(median, 1), min_ms=round(min(times), 1), max_ms=round(max(times), 1),
                  images_per_s=round(args.batch * 1e3 / median, 2),
                  peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), **counted)
    print(json.dumps(result))
    if args.markdown:
        print(f"| `{args.config}` | {result['median_ms']} | {counted['gmacs']} | {counted['params_m']} M |")
    return result


def _count_flops(model, shape) -> dict:
    """Multiply-adds ('GFLOPs') and inference parameters of one 3 x H x W image: get_flops.py's count."""
    import torch
    spec = importlib.util.spec_from_file_location('get_flops', os.path.join(os.path.dirname(__file__), 'get_flops.py'))
    get_flops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(get_flops)
    model.eval()
    with torch.no_grad():
        stats = get_flops.count(model, shape)
    return dict(gmacs=round(stats['macs'] / 1e9, 2), params_m=round(stats['inference_params'] / 1e6, 2))


if __name__ == '__main__':
    main()
