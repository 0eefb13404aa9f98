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
