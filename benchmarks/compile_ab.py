"""Compiled against eager training steps in one process, alternated step by step (robust to a loaded machine).

    python benchmarks/compile_ab.py [--config C] [--batch 2] [--size 256] [--steps 5] [--precision fp32 bf16]
        [--profile 12]

Two copies of one model (same random weights, BN, SGD with momentum as ``peer_workloads.py train-step``), one with
``train_cfg.compile=True``; each precision first compiles (the time is printed), then the two run ``train_step``
alternately on the same random batch; medians and the ratio. ``--profile N`` prints the top N operators by share of
self CPU time for both, for the last precision. ``compare_mmseg.py`` gives each variant its own process instead
(and MMSegmentation beside it); on a machine other jobs share, the alternation here is the steadier figure of the
compile gain.
"""
import argparse
import os
import statistics
import sys
import time

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))
import torch  # noqa: E402

torch.set_num_threads(THREADS)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, 'benchmarks'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/deeplabv3plus/r50_512x512_voc.py')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--precision', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16'])
    parser.add_argument('--profile', type=int, default=0, metavar='ROWS')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='k=v pairs for the segkit model config')
    args = parser.parse_args(argv)
    from mmengine.optim import OptimWrapper

    import peer_workloads
    from segkit.engine.compile import compile_training, resolve_compile
    from segkit.engine.optim_wrapper import AutocastOptimWrapper
    data_sample_type, _, _ = peer_workloads.import_framework('segkit')
    options = dict(kv.split('=', 1) for kv in args.cfg_options)
    options = {k: eval(v) for k, v in options.items()}  # noqa: S307  (a benchmark's own command line)
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        model = peer_workloads.build_model('segkit', args.config, options).train()
        model.data_preprocessor.size = (args.size, args.size)
        models.append(model)
    eager, compiled_model = models
    compiled = compile_training(compiled_model, resolve_compile(True))
    inputs, samples = peer_workloads.random_batch(data_sample_type, args.batch, args.size,
                                                  eager.num_classes)  # the config's classes
    batch = dict(inputs=inputs, data_samples=samples)
    for precision in args.precision:
        wrappers = []
        for model in models:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            wrappers.append(AutocastOptimWrapper(optimizer=optimizer, dtype='bfloat16', device_type='cpu')
                            if precision == 'bf16' else OptimWrapper(optimizer=optimizer))
        steps = [lambda m=m, w=w: m.train_step(batch, w) for m, w in zip(models, wrappers)]
        start = time.perf_counter()
        steps[1]()
        first = time.perf_counter() - start
        steps[0]()
        times = ([], [])
        for _ in range(args.steps):
            for i in (0, 1):
                start = time.perf_counter()
                steps[i]()
                times[i].append((time.perf_counter() - start) * 1e3)
        eager_ms, compiled_ms = statistics.median(times[0]), statistics.median(times[1])
        print(f'{args.config} batch {args.batch} {args.size}x{args.size} {precision}: eager {eager_ms:.0f} ms, '
              f'compiled '
              f'{compiled_ms:.0f} ms ({eager_ms / compiled_ms:.2f}x), compile {first - compiled_ms / 1e3:.0f} s, '
              f'{compiled.graph_breaks} graph breaks, fallback {compiled.fallback}', flush=True)
    if args.profile:
        for name, step in (('eager', steps[0]), ('compiled', steps[1])):
            print(f'{name} {args.precision[-1]}:', flush=True)
            peer_workloads.print_profile(step, args.profile, out=sys.stdout)


if __name__ == '__main__':
    main()
