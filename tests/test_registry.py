import textwrap

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS as ROOT_DATASETS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS

from segkit.registry import BACKBONES, HEADS, LOSSES, SEGMENTORS, UnknownTypeError
from tests.helpers import tiny_deeplabv3plus


def test_registries_are_separate_and_filled_lazily():
    assert 'ResNetV1c' in BACKBONES and 'ResNetV1c' not in HEADS
    assert 'ASPPHead' in HEADS and 'CrossEntropyLoss' in LOSSES and 'EncoderDecoder' in SEGMENTORS


def test_runner_roots_resolve_segkit_and_mmcv_entries_under_segkit_scope():
    model = ROOT_MODELS.build(tiny_deeplabv3plus())
    assert type(model).__module__.startswith('segkit.')
    assert ROOT_TRANSFORMS.build(dict(type='PackSegInputs')).__module__.startswith('segkit.')
    flip = ROOT_TRANSFORMS.build(dict(type='RandomFlip', prob=0.5))  # mmcv's, found through the parent
    assert type(flip).__module__.startswith('mmcv.')
    dataset = ROOT_DATASETS.build(dict(type='CamVidDataset', data_root='nowhere', lazy_init=True))
    assert type(dataset).__name__ == 'CamVidDataset'


def test_unknown_type_names_registry_and_closest_names():
    with pytest.raises(UnknownTypeError) as err:
        HEADS.build(dict(type='ASPPHaed', in_channels=4, channels=4, num_classes=2))
    msg = str(err.value)
    assert "'head' registry" in msg and 'ASPPHaed' in msg and 'ASPPHead' in msg
    cfg = tiny_deeplabv3plus()
    cfg['backbone']['type'] = 'ResNetV1'
    with pytest.raises(KeyError, match="'backbone' registry.*ResNetV1c"):
        ROOT_MODELS.build(cfg)


def test_custom_head_from_user_file_via_custom_imports(tmp_path, monkeypatch):
    (tmp_path / 'my_head.py').write_text(textwrap.dedent('''
        import torch
        from segkit.models.heads import DecodeHead
        from segkit.registry import HEADS

        @HEADS.register_module()
        class MeanHead(DecodeHead):
            """Averages the selected feature map's channels into ``channels`` maps."""
            def features(self, inputs):
                x = self.select_inputs(inputs)
                return x.mean(1, keepdim=True).expand(-1, self.channels, -1, -1)
    '''))
    cfg = tiny_deeplabv3plus(aux=False)
    cfg['decode_head'] = dict(type='MeanHead', in_channels=64, channels=4, num_classes=3)
    (tmp_path / 'cfg.py').write_text(f"custom_imports = dict(imports=['my_head'], allow_failed_imports=False)\n"
                                     f'model = {cfg!r}\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    config = Config.fromfile(str(tmp_path / 'cfg.py'))
    model = ROOT_MODELS.build(config.model)
    assert type(model.decode_head).__name__ == 'MeanHead'
    import torch
    assert model(torch.randn(1, 3, 32, 32), mode='tensor').shape == (1, 3, 4, 4)


def test_frozen_bn_lives_in_segkit_registry_not_in_mmengine_root():
    """Importing segkit and building FrozenBN models leaves mmengine's root MODELS as it was (a fresh interpreter,
    so no earlier test can hide a registration); mmcv's build_norm_layer finds FrozenBN under segkit's scope."""
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    code = textwrap.dedent('''
        from mmengine.registry import MODELS, init_default_scope
        import segkit, segkit.models, segkit.registry
        assert 'FrozenBN' not in MODELS.module_dict
        from segkit.models.frozen_bn import FrozenBatchNorm2d
        from tests.helpers import tiny_deeplabv3plus
        init_default_scope('segkit')
        cfg = tiny_deeplabv3plus()
        cfg['backbone']['norm_cfg'] = cfg['decode_head']['norm_cfg'] = dict(type='FrozenBN')
        model = MODELS.build(cfg)
        assert isinstance(model.backbone.stem[1], FrozenBatchNorm2d)
        assert isinstance(model.decode_head.aspp.project.bn, FrozenBatchNorm2d)
        assert 'FrozenBN' not in MODELS.module_dict and 'FrozenBN' in segkit.registry.MODELS.module_dict
        print('ok')
    ''')
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(repo), capture_output=True, text=True, timeout=300,
                          env={'PYTHONPATH': str(repo), 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 0 and proc.stdout.strip().endswith('ok'), proc.stderr[-3000:]


def test_frozen_bn_from_direct_backbone_construction():
    from torch import nn

    from segkit.models.backbones import MobileNetV2, ResNetV1c
    from segkit.models.frozen_bn import FrozenBatchNorm2d
    resnet = ResNetV1c(depth=18, stem_channels=8, base_channels=8, norm_cfg=dict(type='FrozenBN'))  # segkit scope
    mobilenet = MobileNetV2(widen_factor=0.25, norm_cfg=dict(type=FrozenBatchNorm2d))  # the class: any scope
    for model in (resnet, mobilenet):
        norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        assert norms and all(isinstance(m, FrozenBatchNorm2d) for m in norms)
    with pytest.raises(UnknownTypeError, match=r"type='FrozenBn' .* Closest registered names: FrozenBN"):
        ResNetV1c(depth=18, norm_cfg=dict(type='FrozenBn'))
