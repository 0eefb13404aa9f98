"""Segment your own pictures: an image, a folder (recursive) or a video.

    python tools/inference.py CONFIG CHECKPOINT INPUT [--out DIR] [--opacity 0.5] [--device cpu] [--tta]
    python tools/inference.py SAVED_MODEL_DIR INPUT [...]     # a folder from model.save_pretrained(DIR)

Images and folders: ``DIR/overlay/<name>.png`` (image blended with class colours, legend of the classes present
with their pixel share) and ``DIR/label/<name>.png`` (palette PNG: opens in colour, pixel values are class ids);
a folder's sub-folders are kept. Videos: ``DIR/<name>_overlay.mp4`` at the source's frame rate.
"""
import argparse
import os
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a source checkout

import cv2  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,  # noqa: E402
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text  # noqa: E402

from segkit.apis import inference_model, init_model  # noqa: E402
from segkit.fileio.saved_model import is_saved_model  # noqa: E402
from segkit.visualization import add_legend, legend_entries  # noqa: E402

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm'}
VIDEO_SUFFIXES = {'.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Segment an image, a folder of images or a video')
    parser.add_argument('config', help='config file, or a saved-model folder (then no CHECKPOINT)')
    parser.add_argument('paths', nargs='+', metavar='[CHECKPOINT] INPUT',
                        help='checkpoint file (segkit or MMSegmentation; not with a saved-model folder), then an '
                        'image, a folder (searched recursively) or a video file')
    parser.add_argument('--out', default='work_dirs/inference', help='output folder (default work_dirs/inference)')
    parser.add_argument('--opacity', type=float, default=0.5, help='weight of the class colours in the overlay')
    parser.add_argument('--device', default='cpu', help="torch device, e.g. 'cuda:0'")
    parser.add_argument('--no-fast', action='store_true',
                        help='run the model as trained: no BN folding, default memory layout (the fast defaults are '
                             'exact)')
    parser.add_argument('--tta', action='store_true',
                        help="multi-scale + flip inside the model at the config's tta_scales")
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass (folders)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must be in [0, 1], got {args.opacity}')
    saved = is_saved_model(args.config)
    if len(args.paths) != (1 if saved else 2):
        parser.error(f'give {"a saved-model folder and INPUT" if saved else "CONFIG CHECKPOINT INPUT"}; got '
                     f'{args.config} {" ".join(args.paths)}')
    args.checkpoint, args.input = (None, args.paths[0]) if saved else args.paths
    return args


class RateColumn(ProgressColumn):
    """Items per second, as rich measures it over the last steps."""

    def render(self, task) -> Text:
        return Text('' if task.speed is None else f'{task.speed:.2f} images/s')


def say(console: Console, text: str, style: Optional[str] = None) -> None:
    """One unwrapped line without rich markup: file names stay whole and copyable, brackets stay brackets."""
    console.print(text, style=style, soft_wrap=True, markup=False, highlight=False)


def find_images(folder: Path):
    return sorted(p for p in folder.rglob('*') if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: Path):
    """The image as a BGR array, or None when it cannot be decoded."""
    try:
        return mmcv.imread(str(path))
    except Exception:  # noqa: BLE001  (any decoder failure means "unreadable"; reported by name)
        return None


def segment_images(model, paths, root: Path, out: Path, args, console: Console) -> dict:
    """Write an overlay and a label PNG per readable image; returns counts and the unreadable files."""
    unreadable, done = [], 0
    start = time.perf_counter()
    columns = (TextColumn('[bold]segment'), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
               TextColumn('eta'), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task('segment', total=len(paths))
        for first in range(0, len(paths), args.batch_size):
            chunk = [(p, read_image(p)) for p in paths[first:first + args.batch_size]]
            for path, image in chunk:
                if image is None:
                    unreadable.append(path)
                    say(progress.console, f'skipped (cannot read the image): {path}', style='yellow')
            readable = [(p, img) for p, img in chunk if img is not None]
            if readable:
                results = inference_model(model, [img for _, img in readable], batch_size=args.batch_size)
                for (path, _), result in zip(readable, results):
                    name = path.relative_to(root).with_suffix('.png') if path != root else Path(path.stem + '.png')
                    result.save_overlay(out / 'overlay' / name, opacity=args.opacity)
                    result.save_label_map(out / 'label' / name)
                    done += 1
            progress.advance(task, len(chunk))
    seconds = time.perf_counter() - start
    return dict(done=done, unreadable=unreadable, seconds=seconds)


def segment_video(model, path: Path, out: Path, args, console: Console) -> dict:
    """Overlay every frame; the video keeps the source's frame rate and a fixed size (legend panel included)."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f'cannot open the video {path} (is it a format OpenCV reads?)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    meta = model.dataset_meta or {}
    out_file = out / f'{path.stem}_overlay.mp4'
    out.mkdir(parents=True, exist_ok=True)
    writer, size, frames = None, None, 0
    start = time.perf_counter()
    columns = (TextColumn('[bold]video'), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task('video', total=total)
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            result = inference_model(model, frame)
            canvas = result.overlay(opacity=args.opacity)
            if writer is None:  # room for a legend of every class, so all frames have one size
                all_classes = np.arange(model.num_classes)
                full = add_legend(result.overlay(opacity=args.opacity, legend=False),
                                  legend_entries([all_classes], meta.get('classes'), result.palette,
                                                 with_share=True))
                size = (full.shape[1], full.shape[0])
                writer = cv2.VideoWriter(str(out_file), cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
            padded = np.full((size[1], size[0], 3), 255, dtype=np.uint8)
            h, w = min(canvas.shape[0], size[1]), min(canvas.shape[1], size[0])
            padded[:h, :w] = canvas[:h, :w]
            writer.write(padded)
            frames += 1
            progress.advance(task)
    capture.release()
    if writer is not None:
        writer.release()
    seconds = time.perf_counter() - start
    return dict(frames=frames, fps=fps, seconds=seconds, out_file=out_file)


def main(argv=None) -> dict:
    args = parse_args(argv)
    source = Path(args.input)
    if not source.exists():
        raise FileNotFoundError(f'input not found: {source}')
    out = Path(args.out)
    console = Console(stderr=True)
    model = init_model(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options, tta=args.tta,
                       fast=not args.no_fast)
    if source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
        stats = segment_video(model, source, out, args, console)
        fps = stats['frames'] / max(stats['seconds'], 1e-9)
        say(console, f"{stats['frames']} frames at {fps:.2f} FPS (source {stats['fps']:.2f} FPS) "
            f"-> {stats['out_file']}")
        return stats
    if source.is_dir():
        paths, root = find_images(source), source
        if not paths:
            raise FileNotFoundError(f'no images ({", ".join(sorted(IMAGE_SUFFIXES))}) under {source}')
    else:
        paths, root = [source], source
    stats = segment_images(model, paths, root, out, args, console)
    rate = stats['done'] / max(stats['seconds'], 1e-9)
    say(console, f"{stats['done']} images segmented in {stats['seconds']:.1f} s ({rate:.2f} images/s), "
        f"{len(stats['unreadable'])} unreadable skipped -> {out / 'overlay'}, {out / 'label'}")
    for path in stats['unreadable']:
        say(console, f'  unreadable: {path}')
    return stats


if __name__ == '__main__':
    main()
