"""Convert a torchvision DeepLabv3 checkpoint to segkit: python tools/model_converters/torchvision2segkit.py SRC DST.

SRC is the state_dict of ``torchvision.models.segmentation.deeplabv3_resnet50`` / ``deeplabv3_resnet101`` /
``deeplabv3_mobilenet_v3_large`` (e.g. ``deeplabv3_resnet50_coco-cd0a2569.pth`` from download.pytorch.org, or
``torch.save(model.state_dict(), SRC)``). DST is a segkit checkpoint for the matching configs/torchvision/ config:
``python tools/test.py configs/torchvision/deeplabv3_r50_torchvision.py DST``.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import torch  # noqa: E402

from segkit.fileio.checkpoint import safe_load  # noqa: E402
from segkit.models.convert_torchvision import convert_torchvision_deeplabv3, torchvision_backbone  # noqa: E402

CONFIGS = {'resnet50': 'configs/torchvision/deeplabv3_r50_torchvision.py',
           'resnet101': 'configs/torchvision/deeplabv3_r101_torchvision.py',
           'mobilenet_v3_large': 'configs/torchvision/deeplabv3_mobilenetv3_large_torchvision.py'}


def convert(src: str, dst: str) -> str:
    """Write the converted checkpoint; return the config it fits."""
    loaded = safe_load(src)
    state_dict = loaded.get('model', loaded.get('state_dict', loaded))  # torchvision's reference scripts: 'model'
    state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in state_dict.items()}
    backbone = torchvision_backbone(state_dict)
    converted = convert_torchvision_deeplabv3(state_dict)
    config = CONFIGS.get(backbone)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    torch.save({'state_dict': converted, 'meta': {'converted_from': os.path.basename(src), 'config': config}}, dst)
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert a torchvision DeepLabv3 state_dict to a segkit checkpoint')
    parser.add_argument('src', help='torchvision checkpoint (.pth)')
    parser.add_argument('dst', help='segkit checkpoint to write')
    args = parser.parse_args(argv)
    config = convert(args.src, args.dst)
    print(f'wrote {args.dst}; evaluate it with: python tools/test.py {config} {args.dst}')


if __name__ == '__main__':
    main()
