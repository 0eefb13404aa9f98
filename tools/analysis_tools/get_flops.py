"""Count a model's multiply-adds and parameters for one input size.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H W] [--table]

What is counted (mmengine.analysis.FlopAnalyzer, fvcore's counter): one fused multiply-add = 1. Convolutions,
matrix products and linear layers by their multiply-adds; batch norm, bilinear upsampling and adaptive average
pooling per element. Element-wise additions, activations, concatenation and the final resize of the logits to the
input size are not counted (the tool lists such operators). The network runs as in inference
(``mode='tensor'``: backbone and decode head; auxiliary heads only run in training, their parameters are listed
apart). MMSegmentation's get_flops reports the same "GFLOPs" figure, which is multiply-adds; FLOPs counted as
separate multiplications and additions are about twice as many.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.analysis import FlopAnalyzer  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from segkit.apis import init_model  # noqa: E402


class _TensorMode(torch.nn.Module):
    def __init__(self, segmentor):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, x):
        return self.segmentor(x, mode='tensor')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Multiply-adds and parameters of a segkit model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=2, default=(512, 1024), metavar=('H', 'W'),
                        help='input height and width (default 512 1024)')
    parser.add_argument('--table', action='store_true', help='also print the count of each module')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    return parser.parse_args(argv)


def count(model, shape) -> dict:
    """Multiply-adds of one ``3 x H x W`` image, parameters, and the operators that were not counted."""
    analyzer = FlopAnalyzer(_TensorMode(model), (torch.zeros(1, 3, *shape),))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    macs = analyzer.total()
    aux = sum(p.numel() for p in model.auxiliary_heads.parameters())
    params = sum(p.numel() for p in model.parameters())
    return dict(macs=macs, params=params, inference_params=params - aux, aux_params=aux,
                not_counted=dict(analyzer.unsupported_ops()), analyzer=analyzer)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model = init_model(args.config, None, device='cpu', cfg_options=args.cfg_options, fast=False)
    h, w = args.shape
    with torch.no_grad():
        stats = count(model, (h, w))
    print(f'input              1 x 3 x {h} x {w}')
    print(f"multiply-adds      {stats['macs'] / 1e9:.2f} G  (one multiply-add = 1; the 'GFLOPs' of MMSegmentation "
          'and most papers)')
    print(f"FLOPs              {2 * stats['macs'] / 1e9:.2f} G  (2 x multiply-adds)")
    aux = f" + {stats['aux_params'] / 1e6:.2f} M in auxiliary heads (training only)" if stats['aux_params'] else ''
    print(f"parameters         {stats['inference_params'] / 1e6:.2f} M used in inference{aux}")
    if stats['not_counted']:
        ops = ', '.join(f'{op.replace("aten::", "")} x{n}' for op, n in sorted(stats['not_counted'].items()))
        print(f'not counted        {ops}')
    if args.table:
        print(module_table(model, stats['analyzer']))
    return stats


def module_table(model, analyzer, max_depth: int = 2) -> str:
    """Multiply-adds and parameters of the backbone / heads and their direct children."""
    by_module = analyzer.by_module()
    rows = [f'{"module":<40} {"multiply-adds":>14} {"parameters":>11}']
    for name, module in model.named_modules():
        if not name or name.count('.') >= max_depth:
            continue
        macs = by_module.get(f'segmentor.{name}', 0)
        params = sum(p.numel() for p in module.parameters())
        if not macs and not params:
            continue
        rows.append(f'{"  " * name.count(".") + name.split(".")[-1]:<40} {macs / 1e9:>12.3f} G {params / 1e6:>9.3f} M')
    return '\n'.join(rows)


if __name__ == '__main__':
    main()
