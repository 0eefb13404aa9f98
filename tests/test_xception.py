"""Aligned Xception: structure, output stride, and features identical to timm's xception41/65/71."""
from pathlib import Path

import pytest
import torch

from segkit.models.backbones import Xception
from segkit.models.backbones.convert_xception import convert_timm_xception
from segkit.registry import BACKBONES
from tests.test_backbones import randomize_bn

ALL_LEVELS = (0, 1, 2, 3, 4)


def timm_xception(depth, output_stride):
    timm = pytest.importorskip('timm', reason='timm is a test extra (pip install -e .[tests]); it gives the '
                                              'reference aligned Xception')
    model = timm.create_model(f'xception{depth}', pretrained=False, output_stride=output_stride)
    randomize_bn(model)
    return model.eval()


@pytest.mark.parametrize('depth, output_stride, size', [(65, 16, 64), (41, 8, 32), (71, 32, 32)])
def test_timm_weights_give_identical_features(depth, output_stride, size):
    reference = timm_xception(depth, output_stride)
    model = Xception(depth=depth, output_stride=output_stride, out_indices=ALL_LEVELS).eval()
    model.load_state_dict(convert_timm_xception(reference.state_dict(), model.flows)[0], strict=True)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    expected = []  # timm's features: the outputs of the modules its feature_info names
    modules = dict(reference.named_modules())
    for info in reference.feature_info:
        modules[info['module']].register_forward_hook(lambda m, args, out: expected.append(out.clone()))
    with torch.no_grad():
        reference(x)
        outs = model(x)
    assert len(outs) == len(expected) == 5
    for level, (out, ref) in enumerate(zip(outs, expected)):
        assert out.shape == ref.shape, f'level {level}'
        assert ref.abs().max() > 0.1
        torch.testing.assert_close(out, ref, rtol=0, atol=1e-6, msg=f'level {level}')


def test_timm_mapping_covers_every_key():
    reference = timm_xception(71, 32)
    model = Xception(depth=71)
    state = reference.state_dict()
    converted, unused = convert_timm_xception(state, model.flows)
    assert set(converted) == set(model.state_dict())
    assert unused == ['head.fc.weight', 'head.fc.bias']
    assert converted['entry_flow.3.convs.0.depthwise_conv.conv.weight'] is state['blocks.3.stack.conv1.conv_dw.weight']
    assert converted['middle_flow.0.convs.2.pointwise_conv.bn.bias'] is state['blocks.5.stack.conv3.bn_pw.bias']
    assert converted['exit_flow.0.shortcut.bn.running_var'].shape == (1024,)


@pytest.mark.parametrize('checkpoint_name', ['pytorch_model.bin', 'model.safetensors'])
def test_init_cfg_loads_a_timm_file(checkpoint_name, tmp_path):
    reference = timm_xception(41, 32)
    path = tmp_path / checkpoint_name
    if checkpoint_name.endswith('.safetensors'):
        safetensors = pytest.importorskip('safetensors.torch')
        safetensors.save_file(reference.state_dict(), str(path))
    else:
        torch.save(reference.state_dict(), path)
    model = BACKBONES.build(dict(type='Xception', depth=41, out_indices=(4,),
                                 init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], reference.forward_features(x), rtol=0, atol=1e-6)


def test_a_file_of_another_depth_is_refused(tmp_path):
    path = tmp_path / 'xception41.pth'
    torch.save(timm_xception(41, 32).state_dict(), path)
    with pytest.raises(ValueError, match=r'13 blocks, but Xception\(depth=65\) has 21'):
        Xception(depth=65).load_pretrained(str(path))
    segkit_state = Xception(depth=41).state_dict()
    del segkit_state['exit_flow.1.convs.2.pointwise_conv.bn.weight']
    torch.save(segkit_state, path)
    with pytest.raises(KeyError, match=r'1 Xception\(depth=41\) weights are missing.*exit_flow\.1\.convs\.2'):
        Xception(depth=41).load_pretrained(str(path))


# ----------------------------------------------------------------------------------- without the reference


@pytest.mark.parametrize('output_stride, sizes', [(32, (8, 4, 2, 1)), (16, (8, 4, 2, 2)), (8, (8, 4, 4, 4)),
                                                  (None, (8, 4, 2, 1))])
def test_output_stride_sets_the_feature_sizes(output_stride, sizes):
    model = Xception(depth=41, output_stride=output_stride).eval()
    assert model.output_stride == (output_stride or 32)
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 32, 32))
    assert [o.shape[-1] for o in outs] == list(sizes)
    assert [o.shape[1] for o in outs] == list(model.out_channels) == [256, 728, 1024, 2048]


def _conv_settings(block):
    return [(c.depthwise_conv.conv.stride[0], c.depthwise_conv.conv.dilation[0]) for c in block.convs]


def test_output_stride_8_dilates_from_the_entry_flow_on():
    model = Xception(depth=65, output_stride=8)
    # the block whose stride is removed keeps the previous rate; the blocks after it take the doubled one
    assert _conv_settings(model.entry_flow[1]) == [(1, 1), (1, 1), (2, 1)]
    assert _conv_settings(model.entry_flow[2]) == [(1, 1), (1, 1), (1, 1)]
    assert all(_conv_settings(b) == [(1, 2)] * 3 for b in model.middle_flow)
    assert _conv_settings(model.exit_flow[0]) == [(1, 2)] * 3
    assert _conv_settings(model.exit_flow[1]) == [(1, 4)] * 3
    assert model.exit_flow[0].shortcut.conv.stride == (1, 1)
    os16 = Xception(depth=65, output_stride=16)
    assert _conv_settings(os16.exit_flow[0]) == [(1, 1), (1, 1), (1, 1)]
    assert _conv_settings(os16.exit_flow[1]) == [(1, 2)] * 3


def test_structure_of_the_paper():
    for depth, entry, middle in ((41, 3, 8), (65, 3, 16), (71, 5, 16)):
        model = Xception(depth=depth)
        assert model.flows == (('entry_flow', entry), ('middle_flow', middle), ('exit_flow', 2))
    model = Xception(depth=65)
    block = model.middle_flow[0]
    assert block.shortcut is None and block.residual and block.act is not None
    # BN after the depthwise conv; the ReLU comes before each separable conv in the residual blocks
    assert block.convs[0].depthwise_conv.norm_name == 'bn' and not block.convs[0].depthwise_conv.with_activation
    last = model.exit_flow[1]
    assert not last.residual and last.act is None
    assert last.convs[0].depthwise_conv.with_activation and last.convs[2].pointwise_conv.with_activation
    assert model.stem[0].bn.eps == 1e-3
    assert sum(p.numel() for p in model.parameters()) == 37_867_312  # timm xception65 without its classifier


def test_xception_registry_frozen_stages_and_norm_eval():
    model = BACKBONES.build(dict(type='Xception', depth=41, frozen_stages=1, norm_eval=True))
    assert model.output_stride == 32  # the default, as the ImageNet classifier
    model.train()
    assert not any(p.requires_grad for p in model.entry_flow.parameters())
    assert all(p.requires_grad for p in model.middle_flow.parameters())
    assert not model.middle_flow[0].convs[0].depthwise_conv.bn.training


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=50), 'depth=50'), (dict(output_stride=4), 'output_stride=4'), (dict(out_indices=(5,)), 'out_indices'),
    (dict(frozen_stages=4), 'frozen_stages=4')])
def test_xception_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Xception(**kwargs)


def test_voc_config_decodes_at_stride_4():
    from mmengine.config import Config
    from mmengine.registry import MODELS

    from segkit.engine.config_setup import replace_sync_bn
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[1] / 'configs/deeplabv3plus/xception65_512x512_voc.py'))
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg).eval()
    assert model.backbone.output_stride == 16 and model.backbone.out_channels == (256, 728, 1024, 2048)
    assert model.data_preprocessor.mean.flatten().tolist() == [127.5] * 3  # TensorFlow's [-1, 1] input scaling
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
        logits = model.decode_head(feats)
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 4]
    assert logits.shape == (1, 21, 16, 16)
