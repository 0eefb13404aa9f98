"""Plot a training run: loss, learning rate and validation mIoU against the iteration.

    python tools/analysis_tools/plot_curves.py WORK_DIR [--out curves.png] [--keys loss decode.loss_ce ...]

Reads every ``WORK_DIR/<timestamp>/vis_data/scalars.json`` that mmengine's logger wrote (a resumed run has
several; later runs win where iterations repeat). Needs matplotlib (``pip install -e '.[optional]'``).
"""
import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from segkit.visualization.plots import pyplot  # noqa: E402

Series = Dict[str, List[Tuple[int, float]]]
VAL_KEYS = ('mIoU', 'aAcc', 'mAcc', 'mDice', 'mFscore')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot loss, learning rate and validation mIoU of a run')
    parser.add_argument('work_dir', help='the run\'s work dir (holds <timestamp>/vis_data/scalars.json)')
    parser.add_argument('--out', help='PNG to write (default WORK_DIR/curves.png)')
    parser.add_argument('--keys', nargs='+', default=['loss'], help='training losses to plot (default: loss)')
    parser.add_argument('--val-key', default='mIoU', help='validation metric to plot (default mIoU)')
    return parser.parse_args(argv)


def find_scalar_files(work_dir: Path) -> List[Path]:
    files = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not files and (work_dir / 'vis_data' / 'scalars.json').is_file():
        files = [work_dir / 'vis_data' / 'scalars.json']
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}: is it a work dir written by '
                                'tools/train.py (mmengine LocalVisBackend)?')
    return files


def read_scalars(files: Sequence[Path]) -> Tuple[Series, Series]:
    """(training series, validation series), each ``{key: [(iteration, value), ...]}`` sorted by iteration."""
    train: Dict[str, Dict[int, float]] = {}
    val: Dict[str, Dict[int, float]] = {}
    for path in files:
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:  # a run killed while writing leaves a partial last line
                print(f'skipping {path}:{line_no}: not JSON ({exc.msg})', file=sys.stderr)
                continue
            step = int(record.get('step', record.get('iter', 0)))
            target = val if any(k in record for k in VAL_KEYS) else train
            for key, value in record.items():
                if key != 'step' and isinstance(value, (int, float)):
                    target.setdefault(key, {})[step] = float(value)
    return ({k: sorted(v.items()) for k, v in train.items()}, {k: sorted(v.items()) for k, v in val.items()})


def plot(train: Series, val: Series, out: Path, loss_keys: Sequence[str], val_key: str, title: str) -> None:
    plt = pyplot()
    missing = [k for k in loss_keys if k not in train]
    if missing:
        raise KeyError(f'no training scalar {missing} in the logs; logged keys: {sorted(train)}')
    panels = 2 + (val_key in val)
    fig, axes = plt.subplots(panels, 1, figsize=(7, 2.3 * panels), sharex=True, constrained_layout=True)
    for key in loss_keys:
        steps, values = zip(*train[key])
        axes[0].plot(steps, values, linewidth=1, label=key)
    axes[0].set_ylabel('loss')
    axes[0].legend(loc='upper right', fontsize='small')
    if 'lr' in train:
        steps, values = zip(*train['lr'])
        axes[1].plot(steps, values, color='tab:orange', linewidth=1)
    axes[1].set_ylabel('learning rate')
    axes[1].ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
    if val_key in val:
        steps, values = zip(*val[val_key])
        ax = axes[2]
        ax.plot(steps, values, marker='o', color='tab:green', linewidth=1.5)
        best = max(range(len(values)), key=values.__getitem__)
        ax.annotate(f'best {values[best]:.2f} @ {steps[best]}', (steps[best], values[best]),
                    textcoords='offset points', xytext=(-10, -14), ha='right', fontsize='small')
        ax.set_ylabel(f'val {val_key}')
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel('iteration')
    axes[0].set_title(title, fontsize='medium')
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None) -> Path:
    args = parse_args(argv)
    work_dir = Path(args.work_dir)
    train, val = read_scalars(find_scalar_files(work_dir))
    out = Path(args.out) if args.out else work_dir / 'curves.png'
    plot(train, val, out, args.keys, args.val_key, title=work_dir.resolve().name)
    print(f'{out}: {", ".join(args.keys)}, lr, val {args.val_key} ({len(val.get(args.val_key, []))} evaluations)')
    return out


if __name__ == '__main__':
    main()
