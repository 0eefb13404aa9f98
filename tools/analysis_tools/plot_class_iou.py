"""Bar chart of the per-class IoU of a tools/test.py (or validation) run.

    python tools/analysis_tools/plot_class_iou.py WORK_DIR_OR_LOG [--out class_iou.png] [--metric IoU]

Reads the last per-class table that IoUMetric printed into the run's log (``WORK_DIR/<timestamp>/<timestamp>.log``,
the newest one) and draws one bar per class, sorted as in the table, with the mean as a dashed line. Classes
absent from the test set (``nan``) are marked ``n/a``. Needs matplotlib (``pip install -e '.[optional]'``).
"""
import argparse
import math
import os
import sys
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from segkit.visualization.plots import pyplot  # noqa: E402

TABLE_HEADER = 'per class results:'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Per-class IoU bar chart from a test run')
    parser.add_argument('source', help='work dir of a tools/test.py run, or its .log file')
    parser.add_argument('--out', help='PNG to write (default: class_<metric>.png beside the log)')
    parser.add_argument('--metric', default='IoU', help='table column to plot (IoU, Acc, Dice, ...)')
    return parser.parse_args(argv)


def find_log(source: Path) -> Path:
    if source.is_file():
        return source
    logs = sorted(source.glob('*/*.log'), key=lambda p: p.stat().st_mtime)
    if not logs:
        raise FileNotFoundError(f'no <timestamp>/<timestamp>.log under {source}: pass a tools/test.py work dir')
    return logs[-1]


def read_class_table(log: Path) -> Dict[str, List[Tuple[str, float]]]:
    """``{column: [(class name, value), ...]}`` of the last per-class table in ``log``."""
    lines = log.read_text(errors='replace').splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip().endswith(TABLE_HEADER)]
    if not starts:
        raise ValueError(f"{log} has no per-class table ('{TABLE_HEADER}'): was it written by an IoUMetric run?")
    rows = []
    for line in lines[starts[-1] + 1:]:
        if line.startswith('+'):
            continue
        if not line.startswith('|'):
            break
        rows.append([cell.strip() for cell in line.strip().strip('|').split('|')])
    header, body = rows[0], rows[1:]
    return {column: [(row[0], float(row[i])) for row in body] for i, column in enumerate(header) if i > 0}


def plot(values: List[Tuple[str, float]], metric: str, out: Path, title: str) -> None:
    plt = pyplot()
    names = [name for name, _ in values]
    heights = [0.0 if math.isnan(v) else v for _, v in values]
    valid = [v for _, v in values if not math.isnan(v)]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(names) + 1.5), 3.4), constrained_layout=True)
    bars = ax.bar(range(len(names)), heights, color='tab:blue')
    for bar, (_, v) in zip(bars, values):
        text = 'n/a' if math.isnan(v) else f'{v:.1f}'
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1, text, ha='center', fontsize='x-small')
    if valid:
        mean = sum(valid) / len(valid)
        ax.axhline(mean, color='tab:red', linestyle='--', linewidth=1, label=f'm{metric} {mean:.2f}')
        ax.legend(loc='upper right', fontsize='small')
    ax.set_xticks(range(len(names)), names, rotation=45, ha='right', fontsize='small')
    ax.set_ylim(0, 105)
    ax.set_ylabel(f'{metric} (%)')
    ax.set_title(title, fontsize='medium')
    ax.grid(axis='y', alpha=0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None) -> Path:
    args = parse_args(argv)
    log = find_log(Path(args.source))
    table = read_class_table(log)
    if args.metric not in table:
        raise KeyError(f'{log}: no {args.metric!r} column in the per-class table; columns: {sorted(table)}')
    out = Path(args.out) if args.out else log.parent / f'class_{args.metric}.png'
    plot(table[args.metric], args.metric, out, title=f'per-class {args.metric}: {log.parent.parent.name}')
    print(f'{out}: {len(table[args.metric])} classes')
    return out


if __name__ == '__main__':
    main()
