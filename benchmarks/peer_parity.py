"""Max |difference| between peer models and segkit on random weights: python benchmarks/peer_parity.py.

torchvision's DeepLabv3 models (converted with segkit.models.convert_torchvision, built from configs/torchvision/)
and timm's aligned Xception (needs timm; converted with segkit.models.backbones.convert_xception), with random
weights and random BN statistics, in eval mode. Prints one row per architecture: the largest difference of the
logits (torchvision: main and auxiliary, at the input size) or of the 5 feature levels (timm), and the largest
magnitude of the reference output for scale.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import MODELS, init_default_scope  # noqa: E402
from torch.nn.modules.batchnorm import _BatchNorm  # noqa: E402

from segkit.engine.config_setup import replace_sync_bn  # noqa: E402
from segkit.models.backbones import Xception  # noqa: E402
from segkit.models.backbones.convert_xception import convert_timm_xception  # noqa: E402
from segkit.models.convert_torchvision import convert_torchvision_deeplabv3  # noqa: E402

TORCHVISION = {'deeplabv3_resnet50': 'configs/torchvision/deeplabv3_r50_torchvision.py',
               'deeplabv3_resnet101': 'configs/torchvision/deeplabv3_r101_torchvision.py',
               'deeplabv3_mobilenet_v3_large': 'configs/torchvision/deeplabv3_mobilenetv3_large_torchvision.py'}


def randomize_bn(model):
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) * 0.6 + 0.4
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5
    return model.eval()


@torch.no_grad()
def torchvision_row(name, size):
    from torchvision.models import segmentation
    torch.manual_seed(0)
    reference = randomize_bn(getattr(segmentation, name)(weights=None, weights_backbone=None, aux_loss=True))
    cfg = replace_sync_bn(Config.fromfile(TORCHVISION[name]).model)
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg).eval()
    model.load_state_dict(convert_torchvision_deeplabv3(reference.state_dict()), strict=True)
    x = torch.randn(1, 3, size, size)
    expected = reference(x)
    logits = model.predict(x)[0].seg_logits.data[None]
    aux = model.auxiliary_heads[0].predict(model.extract_feat(x), [dict(img_shape=(size, size))])
    diff = max((logits - expected['out']).abs().max(), (aux - expected['aux']).abs().max())
    scale = max(expected['out'].abs().max(), expected['aux'].abs().max())
    return f'torchvision {name}', size, float(diff), float(scale)


@torch.no_grad()
def timm_row(depth, output_stride, size):
    import timm
    reference = randomize_bn(timm.create_model(f'xception{depth}', pretrained=False, output_stride=output_stride))
    model = Xception(depth=depth, output_stride=output_stride, out_indices=(0, 1, 2, 3, 4)).eval()
    model.load_state_dict(convert_timm_xception(reference.state_dict(), model.flows)[0], strict=True)
    expected, modules = [], dict(reference.named_modules())
    for info in reference.feature_info:
        modules[info['module']].register_forward_hook(lambda m, args, out: expected.append(out.clone()))
    x = torch.randn(1, 3, size, size)
    reference(x)
    outs = model(x)
    diff = max((a - b).abs().max() for a, b in zip(outs, expected))
    return f'timm xception{depth} (OS {output_stride})', size, float(diff), float(max(e.abs().max() for e in expected))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=64, help='input height and width')
    args = parser.parse_args(argv)
    init_default_scope('segkit')
    rows = [torchvision_row(name, args.size) for name in TORCHVISION]
    try:
        rows += [timm_row(depth, os_, args.size) for depth in (41, 65, 71) for os_ in (8, 16, 32)]
    except ImportError:
        print('timm is not installed: aligned Xception rows skipped (pip install timm)')
    print(f'{"architecture":40s} {"input":>5s} {"max |diff|":>11s} {"max |ref|":>10s}')
    for name, size, diff, scale in rows:
        print(f'{name:40s} {size:5d} {diff:11.2e} {scale:10.3f}')


if __name__ == '__main__':
    main()
