"""Every route of segkit's atrous / depthwise convolutions, timed on the shapes a config's model trains on.

    python benchmarks/conv_routes.py [--config C ...] [--batch 8] [--size 256] [--precision bf16 fp32]
        [--layout nchw nhwc] [--iters 8]

For each config: the model is built (random weights), one forward at ``--batch`` x ``--size`` records the input
shape of every convolution that ``segkit.models.fast_conv.could_reroute``; then each distinct (shape, stride,
rate, groups) is timed by every route that computes it (``valid_routes``: native, float32, space_to_batch, center),
forward + backward of input and weight, median of ``--iters`` after 2 warm-ups, under bf16 autocast or in fp32, in
NCHW or channels-last. Printed per shape: each route's ms, the route segkit's rule picks and the fastest; at the end
the total per route choice (all native against the rule's picks). Run alone: the machine has 2 cores.
"""
import argparse
import os
import statistics
import sys
import time

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(THREADS)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
CONFIGS = ['configs/deeplabv3plus/mobilenetv2_256x256_camvid.py',
           'configs/deeplabv3plus/mobilenetv2-d8_512x1024_cityscapes.py', 'configs/deeplabv3plus/r50_512x512_voc.py']


def recorded_convolutions(config: str, batch: int, size: int):
    """(conv, input shape) of every reroutable convolution of ``config``'s model on a ``batch`` x ``size`` input."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from segkit.models.fast_conv import could_reroute
    from segkit.registry import MODELS
    cfg = Config.fromfile(os.path.join(REPO, config))
    cfg.model.backbone.init_cfg = None  # random weights
    init_default_scope('segkit')
    model = MODELS.build(cfg.model).eval()
    seen = {}

    def record(module, args):
        key = (tuple(args[0].shape), module.stride, module.dilation, module.groups, module.out_channels)
        seen.setdefault(key, (module, tuple(args[0].shape)))
    hooks = [m.register_forward_pre_hook(record) for m in model.modules()
             if isinstance(m, nn.Conv2d) and could_reroute(m)]
    with torch.no_grad():
        model.encode_decode(torch.randn(batch, 3, size, size), [dict(img_shape=(size, size))] * batch)
    for hook in hooks:
        hook.remove()
    return list(seen.values())


def time_route(conv, shape, route, precision: str, channels_last: bool, iters: int) -> float:
    from segkit.models.fast_conv import routed_conv2d
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(shape).contiguous(memory_format=fmt).requires_grad_()
    weight = conv.weight.detach().clone().contiguous(memory_format=fmt).requires_grad_()

    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=precision == 'bf16'):
            y = routed_conv2d(conv, x, weight, None, route=route)
        y.float().sum().backward()
    for _ in range(2):
        step()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', nargs='+', default=CONFIGS)
    parser.add_argument('--batch', type=int, nargs='+', default=[8, 2, 2], help='one per config (or one for all)')
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--precision', nargs='+', default=['bf16', 'fp32'], choices=['bf16', 'fp32'])
    parser.add_argument('--layout', nargs='+', default=['nhwc', 'nchw'], choices=['nchw', 'nhwc'])
    parser.add_argument('--iters', type=int, default=8)
    args = parser.parse_args(argv)
    from segkit.models.fast_conv import conv_route, valid_routes
    batches = args.batch if len(args.batch) == len(args.config) else args.batch[:1] * len(args.config)
    for config, batch in zip(args.config, batches):
        convs = recorded_convolutions(config, batch, args.size)
        for precision in args.precision:
            for layout in args.layout:
                native_total = rule_total = 0.0
                print(f'\n{os.path.basename(config)}, batch {batch}, {args.size}x{args.size}, {precision}, {layout}')
                for conv, shape in convs:
                    x = torch.empty(shape)
                    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=precision == 'bf16'):
                        rule = conv_route(conv, x)
                    ms = {route: time_route(conv, shape, route, precision, layout == 'nhwc', args.iters)
                          for route in valid_routes(conv, x) if not (route == 'float32' and precision == 'fp32')}
                    native_total += ms['native']
                    rule_total += ms[rule]
                    kind = 'depthwise' if conv.groups > 1 else 'dense'
                    cells = '  '.join(f'{route} {value:7.2f}' for route, value in ms.items())
                    print(f'  {kind:9s} {str(shape):20s} stride {conv.stride[0]} rate {conv.dilation[0]:2d}: {cells}'
                          f'  | rule: {rule}, fastest: {min(ms, key=ms.get)}')
                print(f'  total forward + backward: all native {native_total:.1f} ms, rule {rule_total:.1f} ms '
                      f'({native_total / rule_total:.2f}x)')


if __name__ == '__main__':
    main()
