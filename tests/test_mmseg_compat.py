"""MMSegmentation checkpoints load into segkit's modules (every tensor used) and give the same logits.

The fixtures were produced by MMSegmentation 1.2.2 itself (tests/fixtures/README.md).
"""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint

from segkit.engine.config_setup import replace_sync_bn

FIXTURES = Path(__file__).parent / 'fixtures'
REPO = Path(__file__).resolve().parents[1]


def segkit_model_cfg(mmseg_cfg: dict) -> dict:
    """The segkit config of an MMSeg model config: only the head's decoder arguments are named differently."""
    cfg = json.loads(json.dumps(mmseg_cfg))
    cfg.pop('pretrained', None)
    cfg['backbone'].pop('style', None)
    head = cfg['decode_head']
    head['project_kernel_size'] = 3  # MMSeg's ASPP bottleneck is a 3x3 conv
    if 'c1_in_channels' in head:
        head['low_level_in_channels'] = head.pop('c1_in_channels')
        head['low_level_channels'] = head.pop('c1_channels')
    for h in (head, cfg['auxiliary_head']):
        h['loss_decode'].pop('use_sigmoid', None)
    return cfg


@pytest.mark.parametrize('arch', ['deeplabv3', 'deeplabv3plus'])
def test_tiny_mmseg_checkpoint_gives_identical_logits(arch, tmp_path):
    ref = torch.load(FIXTURES / f'mmseg_tiny_{arch}.pt', weights_only=True)
    model = MODELS.build(segkit_model_cfg(json.loads(ref['model_cfg']))).eval()
    ckpt = tmp_path / 'mmseg.pth'
    torch.save(dict(state_dict=ref['state_dict'], meta=dict(mmseg_version='1.2.2')), ckpt)
    load_checkpoint(model, str(ckpt), strict=True)  # strict: every MMSeg tensor used, every segkit key filled
    x = ref['input']
    h, w = x.shape[-2:]
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), padding_size=[0, 0, 0, 0])]
    with torch.no_grad():
        logits = model.encode_decode(x, metas)
        aux = model.auxiliary_heads[0](model.extract_feat(x))
    assert torch.allclose(logits, ref['logits'], atol=1e-5, rtol=1e-4)
    assert torch.allclose(aux, ref['aux_logits'], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('arch,config', [
    ('deeplabv3', 'configs/deeplabv3/r50_512x512_voc.py'),
    ('deeplabv3plus', 'configs/deeplabv3plus/r50_512x512_voc.py'),
])
def test_r50_d8_checkpoint_keys_map_onto_the_segkit_config(arch, config, tmp_path):
    shapes = json.loads((FIXTURES / f'mmseg_{arch}_r50-d8_keys.json').read_text())
    cfg = Config.fromfile(str(REPO / config))
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.pop('init_cfg')
    model = MODELS.build(model_cfg)
    state = {k: torch.zeros(s, dtype=torch.long if k.endswith('num_batches_tracked') else torch.float32)
             for k, s in shapes.items()}
    for k in state:
        if not k.endswith('num_batches_tracked'):
            state[k].normal_()
    missing, unexpected = model.load_state_dict(dict(state), strict=False)
    assert not missing and not unexpected
    assert torch.equal(model.decode_head.aspp.project.conv.weight, state['decode_head.bottleneck.conv.weight'])
    assert torch.equal(model.auxiliary_heads[0].classifier.weight, state['auxiliary_head.conv_seg.weight'])
