"""Export a trained segmentor and prove the export computes what PyTorch computes.

    python tools/deployment/export.py CONFIG CHECKPOINT --format onnx|torchscript|openvino [--shape H W] [--dynamic]

The exported graph takes ``image`` (N x 3 x H x W float32, BGR, 0-255: a cv2 image transposed) and returns
``logits`` (N x C x H x W); normalisation and padding are inside it. Afterwards the file is loaded with its own
runtime (ONNX Runtime on the CPU, OpenVINO, TorchScript) and compared with PyTorch on a real image: largest logit
difference <= 1e-3 and the same label on >= 99.9 % of pixels, or the command fails.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import mmcv  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from segkit.apis import init_model  # noqa: E402
from segkit.deployment import (FORMATS, compare_with_pytorch, default_shape, export_model,  # noqa: E402
                               format_report, open_session, output_path)


def image_size(value: str) -> int:
    """One value of ``--shape H W``: a positive number of pixels, else an error saying what ``--shape`` takes."""
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(
            f'{value!r} is not a positive number of pixels: --shape takes the input height and width as two '
            'positive integers, e.g. --shape 512 512 (any size: the exported graph pads to the model\'s size '
            'divisor; with --dynamic it is the size of the example input and of the check). Leave it out for the '
            "config's crop_size.")
    return size


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a segkit model to ONNX, TorchScript or OpenVINO IR')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (segkit or MMSegmentation)')
    parser.add_argument('--format', required=True, choices=sorted(FORMATS), help='export format')
    parser.add_argument('--shape', type=image_size, nargs=2, metavar=('H', 'W'),
                        help="input height and width (default: the config's crop_size, else 512 512)")
    parser.add_argument('--dynamic', action='store_true',
                        help='any batch size, height and width (else batch 1 at --shape)')
    parser.add_argument('--out-dir', default='work_dirs/export', help='where the file goes')
    parser.add_argument('--image', help="real image for the check (default: the config's first test image)")
    parser.add_argument('--onnx-exporter', choices=['dynamo', 'torchscript'], default='dynamo',
                        help="torch's ONNX exporter: torch.export based (default) or the older tracer")
    parser.add_argument('--no-check', action='store_true', help='skip the comparison with PyTorch')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    return parser.parse_args(argv)


def first_test_image(cfg) -> str:
    from segkit.registry import DATASETS
    try:
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'segkit')):
            dataset = DATASETS.build(cfg.test_dataloader.dataset)
        return dataset.get_data_info(0)['img_path']
    except Exception as exc:  # noqa: BLE001  (missing data of any kind: ask for an image instead)
        raise FileNotFoundError(f"no test image from the config's dataset ({exc}); pass --image PATH") from exc


def main(argv=None) -> list:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, device='cpu', cfg_options=args.cfg_options, fast=False)
    shape = tuple(args.shape) if args.shape else default_shape(model.cfg)
    stem = os.path.splitext(os.path.basename(args.config))[0]
    out_file = output_path(args.out_dir, f"{stem}_{'dynamic' if args.dynamic else f'{shape[0]}x{shape[1]}'}",
                           args.format)
    export_model(model, out_file, args.format, shape=shape, dynamic=args.dynamic, onnx_exporter=args.onnx_exporter)
    inputs = 'dynamic batch, height, width' if args.dynamic else f'static 1x3x{shape[0]}x{shape[1]}'
    print(f'exported {args.format} ({inputs}) -> {out_file}')
    if args.no_check:
        return []
    image_path = args.image or first_test_image(model.cfg)
    image = mmcv.imread(image_path)
    if image is None:
        raise FileNotFoundError(f'cannot read the check image {image_path}')
    records = compare_with_pytorch(model, open_session(out_file), image, shape=shape)
    print(f'check against PyTorch on {image_path} ({image.shape[0]}x{image.shape[1]}):')
    print(format_report(records))
    if not all(r['passed'] for r in records):
        raise SystemExit(f'{out_file}: the exported model does not match PyTorch (see the table above)')
    return records


if __name__ == '__main__':
    main()
