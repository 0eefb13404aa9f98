"""segkit and MMSegmentation side by side on this machine: alternated runs, medians, ratios, the ceiling.

    bash ../shared/peers/setup_mmseg_venv.sh          # once: MMSegmentation 1.2.2 in /tmp/peer_mmseg
    python benchmarks/compare_mmseg.py [--workloads forward-r50 forward-mbv2 train-r50 train-mbv2
        pipeline metric scaling train-batch] [--rounds 2] [--size 512] [--mmseg-python /tmp/peer_mmseg/bin/python]

Each workload runs MMSegmentation's baseline and segkit's variants as separate processes, alternated (A B C A B C
...) for ``--rounds`` rounds, and reports the median of each command's own median, the ratio against
MMSegmentation (> 1 is faster) and, for forwards, the effective GFLOP/s (2 x multiply-adds of the segkit model /
time) against the machine's conv ceiling measured by ``../shared/peers/ceiling.py`` in the same run. Forwards use
``../shared/peers/time_forward.py`` (random weights, 21 classes, 1 x 3 x S x S), the others
``peer_workloads.py``. ``scaling`` times R50 forwards at 256 / 512 / 1024 and output stride 8 / 16 with peak
memory, ``train-batch`` training steps at batch 2 / 4 / 8 (neither is in the default list: add them by name).
``pipeline`` times segkit twice: reading the files at every step, as MMSegmentation does, and with
``decoded_cache`` (each image and mask decoded once when the dataset is built; only the random steps timed). Training
workloads time eager, channels-last, bf16 autocast and compiled (``train_cfg.compile``; the compile time is shown
beside the label) variants, and eager with plain ``nn.Conv2d`` everywhere (``plain convolutions``: segkit's atrous /
depthwise routes off, ``segkit/models/fast_conv.py``); ``--train-variants`` picks some by label.
The machine is noisy: only ratios from one run mean anything.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from typing import Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(os.path.dirname(REPO), 'shared', 'peers')
WORKLOADS_PY = os.path.join(REPO, 'benchmarks', 'peer_workloads.py')
R50 = 'configs/deeplabv3plus/r50_512x512_voc.py'
MBV2 = 'configs/deeplabv3plus/mobilenetv2-d8_512x1024_cityscapes.py'
MMSEG_MBV2 = 'mobilenet_v2/mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024.py'
FAST = ['model.test_cfg.fuse_bn=True', 'model.channels_last=True']
NHWC = ['--cfg-options', 'model.channels_last=True']  # training in channels-last
OPENVINO = ['model.test_cfg.backend.type=openvino']  # DictAction takes dotted keys, not dict(...)
FORWARD_VARIANTS = [  # (label, --cfg-options, precision of the ceiling it is held against)
    ('segkit fp32 eager', [], 'fp32'),
    ('segkit fp32 fuse_bn+channels_last', FAST, 'fp32'),
    ('segkit fp32 backend=onnxruntime', ['model.test_cfg.backend.type=onnxruntime'], 'fp32'),
    ('segkit fp32 backend=openvino', OPENVINO, 'fp32'),
    ('segkit bf16 autocast+fuse_bn+channels_last', FAST + ['model.test_cfg.autocast=bfloat16'], 'bf16'),
    ('segkit bf16 backend=openvino', OPENVINO + ['model.test_cfg.backend.precision=bf16'], 'bf16'),
    ('segkit int8 backend=openvino (NNCF)', OPENVINO + ['model.test_cfg.backend.precision=int8',
                                                        'model.test_cfg.backend.calibration=random'], 'int8'),
]


def run_json(cmd: List[str], env: Dict[str, str]) -> dict:
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def ceiling(python: str) -> Dict[str, float]:
    """Best fp32 and bf16 3x3-conv GFLOP/s of ceiling.py (NCHW or channels_last)."""
    out = subprocess.run([python, os.path.join(PEERS, 'ceiling.py')], capture_output=True, text=True).stdout
    best = {}
    for line in out.splitlines():
        match = re.match(r'conv3x3 .* torch\.(float32|bfloat16) \w+\s+([\d.]+) GFLOP/s', line)
        if match:
            key = 'fp32' if match.group(1) == 'float32' else 'bf16'
            best[key] = max(best.get(key, 0.0), float(match.group(2)))
    return best


def segkit_gflop(config: str, size: int) -> float:
    """2 x multiply-adds of the segkit model's inference forward at size x size (get_flops.py's count)."""
    sys.path.insert(0, REPO)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from segkit.registry import SEGMENTORS
    from tools.analysis_tools.get_flops import count
    cfg = Config.fromfile(os.path.join(REPO, config))
    init_default_scope('segkit')
    cfg.model.backbone.pop('init_cfg', None)
    cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = dict(type='BN')
    import torch
    with torch.no_grad():
        return 2 * count(SEGMENTORS.build(cfg.model).eval(), (size, size))['macs'] / 1e9


def commands(workload: str, args) -> Tuple[List[Tuple[str, str, List[str]]], str]:
    """[(group, label, argv)]: the first command of each group is MMSegmentation's, the baseline of its group;
    and the figure compared ('ms' or 'img/s')."""
    mmseg, me = args.mmseg_python, sys.executable
    forward = [os.path.join(PEERS, 'time_forward.py')]
    size = ['--size', str(args.size), '--iters', str(args.iters)]
    work = [WORKLOADS_PY]
    if workload in ('forward-r50', 'forward-mbv2'):
        base = ['--arch', 'deeplabv3plus'] if workload == 'forward-r50' else ['--mmseg-config', MMSEG_MBV2]
        config = R50 if workload == 'forward-r50' else MBV2
        cmds = [(workload, 'MMSegmentation fp32', [mmseg] + forward + ['mmseg'] + base + size)]
        for label, options, _ in FORWARD_VARIANTS:
            extra = ['--cfg-options'] + options if options else []
            cmds.append((workload, label, [me] + forward + ['segkit', '--config', config] + size + extra))
        return cmds, 'ms'
    if workload == 'scaling':  # inference time and peak memory against input size and output stride
        cmds = []
        for side in (256, 512, 1024):
            for stride in (8, 16):
                group = f'{side}x{side} OS{stride}'
                shape = ['--size', str(side), '--output-stride', str(stride), '--iters', str(args.scaling_iters)]
                cmds += [(group, 'MMSegmentation fp32', [mmseg] + work + ['forward', 'mmseg'] + shape),
                         (group, 'segkit fp32 eager', [me] + work + ['forward', 'segkit'] + shape)]
        return cmds, 'ms'
    if workload in ('train-r50', 'train-mbv2', 'train-batch'):
        mm_cfg = [] if workload != 'train-mbv2' else ['--config', MMSEG_MBV2]
        sk_cfg = ['--config', MBV2 if workload == 'train-mbv2' else R50]
        cmds = []
        for batch in ((2, 4, 8) if workload == 'train-batch' else (2, )):
            group = f'{workload} batch {batch}'
            step = ['--batch', str(batch), '--size', '256',
                    '--iters', str(args.scaling_iters if workload == 'train-batch' else args.iters)]
            segkit = [me] + work + ['train-step', 'segkit'] + sk_cfg + step
            variants = [('segkit fp32 plain convolutions', ['--plain-convolutions']), ('segkit fp32', []),
                        ('segkit fp32 channels_last', NHWC),
                        ('segkit bf16 autocast channels_last plain convolutions',
                         ['--bf16', '--plain-convolutions'] + NHWC),
                        ('segkit bf16 autocast', ['--bf16']),
                        ('segkit bf16 autocast channels_last', ['--bf16'] + NHWC),
                        ('segkit fp32 compiled', ['--compile']),
                        ('segkit fp32 compiled channels_last', ['--compile'] + NHWC),
                        ('segkit bf16 compiled', ['--bf16', '--compile']),
                        ('segkit bf16 compiled channels_last', ['--bf16', '--compile'] + NHWC)]
            if args.train_variants:
                variants = [(label, extra) for label, extra in variants if label in args.train_variants]
            cmds += [(group, 'MMSegmentation fp32', [mmseg] + work + ['train-step', 'mmseg'] + mm_cfg + step)]
            cmds += [(group, label, segkit + extra) for label, extra in variants]
        return cmds, 'ms'
    cmds = [(workload, 'MMSegmentation', [mmseg] + work + [workload, 'mmseg']),
            (workload, 'segkit', [me] + work + [workload, 'segkit'])]
    if workload == 'pipeline':  # images and masks decoded once when the dataset is built, then only random steps
        cmds.append((workload, 'segkit decoded_cache (decodes once)', cmds[-1][2] + ['--decoded-cache']))
    return cmds, 'img/s'


def compare(workload: str, args, env) -> List[dict]:
    cmds, unit = commands(workload, args)
    figures = {(group, label): [] for group, label, _ in cmds}
    memory, compile_s = {}, {}
    for _ in range(args.rounds):
        for group, label, cmd in cmds:
            result = run_json(cmd, env)
            figures[group, label].append(result['median_ms'] if unit == 'ms' else result['images_per_s'])
            memory[group, label] = result.get('peak_rss_mib')
            if 'compile_s' in result:
                compile_s.setdefault((group, label), []).append(result['compile_s'])
            print(f'  {group:<22} {label:<45} {figures[group, label][-1]:>9.1f} {unit}', flush=True)
    rows, base = [], {}
    for group, label, _ in cmds:
        value = statistics.median(figures[group, label])
        base.setdefault(group, value)
        ratio = base[group] / value if unit == 'ms' else value / base[group]
        rows.append(dict(workload=workload, group=group, label=label, value=value, unit=unit, ratio=ratio,
                         peak_rss_mib=memory[group, label], compile_s=compile_s.get((group, label))))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workloads', nargs='+', default=['forward-r50', 'forward-mbv2', 'train-r50', 'train-mbv2',
                                                           'pipeline', 'metric'])
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--iters', type=int, default=10, help='timed repetitions inside each command')
    parser.add_argument('--scaling-iters', type=int, default=3, help='timed repetitions for scaling, train-batch')
    parser.add_argument('--size', type=int, default=512, help='forward input side')
    parser.add_argument('--train-variants', nargs='+', metavar='LABEL',
                        help="train-*: only these segkit variants, e.g. 'segkit fp32' 'segkit bf16 compiled'")
    parser.add_argument('--mmseg-python', default='/tmp/peer_mmseg/bin/python')
    args = parser.parse_args(argv)
    if not os.path.exists(args.mmseg_python):
        parser.error(f'{args.mmseg_python} not found: build it with bash {PEERS}/setup_mmseg_venv.sh')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PEERS, REPO]))
    before = ceiling(sys.executable)
    rows = [row for workload in args.workloads for row in compare(workload, args, env)]
    after = ceiling(sys.executable)
    roof = {key: max(before.get(key, 0), after.get(key, 0)) for key in ('fp32', 'bf16')}
    flops = {w: segkit_gflop(R50 if w == 'forward-r50' else MBV2, args.size)
             for w in ('forward-r50', 'forward-mbv2') if w in args.workloads}
    precision = {label: p for label, _, p in FORWARD_VARIANTS}
    print(f"\nceiling (3x3 conv, best layout, before/after): fp32 {before.get('fp32')}/{after.get('fp32')}, "
          f"bf16 {before.get('bf16')}/{after.get('bf16')} GFLOP/s")
    print('| workload | variant | median | vs MMSeg | effective GFLOP/s | of ceiling | peak RSS |')
    print('|---|---|---|---|---|---|---|')
    for row in rows:
        eff = share = ''
        if row['workload'] in flops:
            gflops = flops[row['workload']] / (row['value'] / 1e3)
            eff = f'{gflops:.0f}'
            kind = precision.get(row['label'], 'fp32')
            share = f"{100 * gflops / roof[kind]:.0f} % of {kind}" if kind in roof and roof[kind] else ''
        rss = f"{row['peak_rss_mib']} MiB" if row['peak_rss_mib'] else ''
        label = row['label'] + (f" (compile {statistics.median(row['compile_s']):.0f} s)" if row['compile_s'] else '')
        print(f"| {row['group']} | {label} | {row['value']:.1f} {row['unit']} | {row['ratio']:.2f}x | "
              f'{eff} | {share} | {rss} |')


if __name__ == '__main__':
    main()
