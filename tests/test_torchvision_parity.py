"""torchvision's DeepLabv3 models load into the configs/torchvision/ configs with identical logits."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.registry import MODELS
from torchvision.models import segmentation

from segkit.engine.config_setup import replace_sync_bn
from segkit.models.convert_torchvision import convert_torchvision_deeplabv3, torchvision_backbone
from segkit.registry import HEADS
from torch.nn.modules.batchnorm import _BatchNorm

REPO = Path(__file__).resolve().parents[1]
ARCHS = {
    'resnet50': (segmentation.deeplabv3_resnet50, 'configs/torchvision/deeplabv3_r50_torchvision.py'),
    'resnet101': (segmentation.deeplabv3_resnet101, 'configs/torchvision/deeplabv3_r101_torchvision.py'),
    'mobilenet_v3_large': (segmentation.deeplabv3_mobilenet_v3_large,
                           'configs/torchvision/deeplabv3_mobilenetv3_large_torchvision.py'),
}


def randomize_bn(model):
    """Random BN affine weights and running statistics; scales below 1 keep the 100-layer ResNet's activations
    (and so float32 rounding) small, as trained networks are."""
    gen = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) * 0.6 + 0.4
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5


def torchvision_model(arch):
    torch.manual_seed(0)
    model = ARCHS[arch][0](weights=None, weights_backbone=None, aux_loss=True, num_classes=21)
    randomize_bn(model)
    return model.eval()


def segkit_model(arch):
    cfg = Config.fromfile(str(REPO / ARCHS[arch][1]))
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.init_cfg = None
    return MODELS.build(model_cfg).eval()


@pytest.mark.parametrize('arch, size', [('resnet50', 64), ('resnet101', 32), ('mobilenet_v3_large', 64)])
def test_torchvision_weights_give_identical_logits(arch, size):
    reference = torchvision_model(arch)
    state = reference.state_dict()
    assert torchvision_backbone(state) == arch
    model = segkit_model(arch)
    model.load_state_dict(convert_torchvision_deeplabv3(state), strict=True)
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(x)
        feats = model.extract_feat(x)
        logits = model.predict(x)
        aux = model.auxiliary_heads[0].predict(feats, [dict(img_shape=(size, size))])
        raw = model.decode_head(feats)
        expected_raw = reference.classifier(reference.backbone(x)['out'])
    assert expected['out'].std() > 0.02 and expected['aux'].std() > 0.02  # far above the 1e-4 tolerance
    torch.testing.assert_close(raw, expected_raw, rtol=0, atol=1e-4)
    torch.testing.assert_close(torch.stack([s.seg_logits.data for s in logits]), expected['out'], rtol=0, atol=1e-4)
    torch.testing.assert_close(aux, expected['aux'], rtol=0, atol=1e-4)


def test_head_rates_reach_real_pixels():
    """On a 40x40 map every atrous tap of rates 12/24/36 reads features (not padding) for central pixels, so a
    wrong rate, kernel or branch order changes the output."""
    torch.manual_seed(0)
    reference = segmentation.deeplabv3.DeepLabHead(16, 5)
    randomize_bn(reference)
    reference.eval()
    head = HEADS.build(dict(type='ASPPConvHead', in_channels=16, channels=256, dilations=(1, 12, 24, 36),
                            dropout_ratio=0.0, num_classes=5, norm_cfg=dict(type='BN'))).eval()
    torchvision_state = {'backbone.conv1.weight': torch.empty(0),
                         **{f'classifier.{k}': v for k, v in reference.state_dict().items()}}
    converted = convert_torchvision_deeplabv3(torchvision_state)
    head.load_state_dict({k[len('decode_head.'):]: v for k, v in converted.items() if k.startswith('decode_head.')},
                         strict=True)
    x = torch.randn(1, 16, 40, 40)
    with torch.no_grad():
        torch.testing.assert_close(head([x]), reference(x), rtol=0, atol=1e-4)


def test_converter_tool_writes_a_checkpoint_the_config_loads(tmp_path):
    reference = torchvision_model('mobilenet_v3_large')
    src, dst = tmp_path / 'tv.pth', tmp_path / 'segkit.pth'
    torch.save(reference.state_dict(), src)
    result = subprocess.run([sys.executable, 'tools/model_converters/torchvision2segkit.py', str(src), str(dst)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'configs/torchvision/deeplabv3_mobilenetv3_large_torchvision.py' in result.stdout
    checkpoint = torch.load(dst, weights_only=True)
    model = segkit_model('mobilenet_v3_large')
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.predict(x)[0].seg_logits.data, reference(x)['out'][0], rtol=0, atol=1e-4)


def test_converter_refuses_other_models():
    with pytest.raises(ValueError, match='FCN and LR-ASPP models are not supported'):
        convert_torchvision_deeplabv3(segmentation.fcn_resnet50(weights=None, weights_backbone=None).state_dict())
    with pytest.raises(ValueError, match='not a torchvision DeepLabv3 state_dict'):
        convert_torchvision_deeplabv3(torchvision.models.resnet18().state_dict())
