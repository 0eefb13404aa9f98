"""TimmBackbone: timm's features, unchanged, at every output stride; the configs/timm models end to end on odd
input sizes; the families timm dilates; ImageNet weights from a file or the Hugging Face cache (offline)."""
import copy
import math
from pathlib import Path

import pytest
import torch

from segkit.engine.config_setup import load_config, replace_sync_bn
from segkit.models.backbones import TimmBackbone
from segkit.models.backbones.timm_features import DILATED_FAMILIES, family_of
from segkit.registry import MODELS
from tests.hub_support import fill_hub_cache
from tests.test_backbones import randomize_bn

timm = pytest.importorskip('timm', reason="TimmBackbone needs timm (pip install -e '.[hub]')")

REPO = Path(__file__).resolve().parents[1]
TIMM_CONFIGS = sorted((REPO / 'configs' / 'timm').glob('*.py'))
ODD = (97, 131)


def _cases():
    """Every configs/timm config at output stride 8, 16 and 32: one stride per config by default (all strides
    covered), the others marked slow."""
    for i, path in enumerate(TIMM_CONFIGS):
        for j, output_stride in enumerate((8, 16, 32)):
            marks = () if (i % 3) == j else (pytest.mark.slow,)
            yield pytest.param(path, output_stride, marks=marks, id=f'{path.stem}-os{output_stride}')


def _model_cfg(path, output_stride):
    cfg = replace_sync_bn(load_config(str(path)).model)
    cfg.backbone.pop('init_cfg')
    cfg.output_stride = output_stride
    return cfg


def test_every_timm_config_is_tested():
    assert [p.name.split('_')[1] for p in TIMM_CONFIGS] == [
        'convnext-tiny', 'efficientnet-b3', 'regnety-016', 'resnest50d', 'resnet50d']


@pytest.mark.parametrize('path, output_stride', _cases())
def test_config_features_equal_timms_on_odd_sizes(path, output_stride):
    """The config's backbone gives timm.create_model(features_only=True, output_stride=...)'s features on
    the same (seeded random) weights; at 97x131 every feature is 1/reduction of the input (rounded either way,
    as the network's own strides round) and the segmentor's logits come back at 97x131."""
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(path, output_stride)).eval()
    randomize_bn(model)
    backbone = model.backbone
    reference = timm.create_model(backbone.model_name, features_only=True, output_stride=output_stride,
                                  out_indices=backbone.model.feature_info.out_indices).eval()
    reference.load_state_dict(backbone.model.state_dict(), strict=True)
    x = torch.randn(1, 3, *ODD, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feats, expected = backbone(x), reference(x)
        logits = model.inference(x, [dict(img_shape=ODD, ori_shape=ODD)])
    assert len(feats) == len(expected) == len(backbone.feature_info)
    for feat, ref, spec in zip(feats, expected, backbone.feature_info):
        # equal to float rounding: segkit runs depthwise atrous convolutions by space-to-batch (models/fast_conv.py)
        torch.testing.assert_close(feat, ref, rtol=1e-5, atol=1e-5)
        assert feat.shape[1] == spec.channels
        for size, full in zip(feat.shape[-2:], ODD):
            assert size in (math.floor(full / spec.reduction), math.ceil(full / spec.reduction)), (spec, feat.shape)
    assert backbone.output_stride == max(s.reduction for s in backbone.feature_info) == output_stride
    assert logits.shape == (1, 21, *ODD) and torch.isfinite(logits).all()


@pytest.mark.parametrize('family, example', sorted(DILATED_FAMILIES.items()))
def test_the_families_that_dilate(family, example):
    """Each family of the table is the module of its example, and the example reaches 8 and 16 (shapes only)."""
    assert family_of(example) == family
    for output_stride in (8, 16):
        with torch.device('meta'):
            backbone = TimmBackbone(example, output_stride=output_stride)
        assert backbone.output_stride == output_stride
        assert backbone.feature_info[-1].reduction == output_stride


def test_a_model_timm_cannot_dilate_is_refused_with_the_families():
    with pytest.raises(ValueError) as err:
        TimmBackbone('test_vit', output_stride=8)
    message = str(err.value)
    assert "'test_vit' (family 'vision_transformer') reaches 16" in message
    assert all(family in message for family in ('resnet', 'convnext', 'efficientnet', 'regnet', 'resnest'))
    assert 'undilated' in message and 'model.output_stride=16' in message
    with pytest.raises(ValueError, match="reaches 16"):  # 32 builds the undilated network, whose stride is 16
        TimmBackbone('test_vit', output_stride=32)
    assert TimmBackbone('test_vit', output_stride=16).output_stride == 16  # its own stride: no dilation needed
    assert TimmBackbone('test_vit').output_stride == 16


@pytest.mark.parametrize('kwargs, message', [
    (dict(model_name='convnext_tinny'), "not a timm model. Closest timm models: convnext_tiny"),
    (dict(model_name='test_resnet', output_stride=4), 'output_stride=4'),
    (dict(model_name='test_resnet', pretrained='', ), 'must be False, True'),
    (dict(model_name='test_resnet', pretrained=True, init_cfg=dict(type='Pretrained', checkpoint='a.pth')),
     'both name weights'),
    (dict(model_name='test_resnet', model_kwargs=dict(in_chans=4)), r"model_kwargs may not set \['in_chans'\]"),
    (dict(model_name='test_resnet', model_kwargs=dict(drop_rat=0.1)), r"refused its arguments.*\['drop_rat'\]"),
    (dict(model_name='test_resnet', out_indices=(1, 7)), r"out_indices=\(1, 7\) for timm's 'test_resnet', which has 5 "
                                                         r'feature stages \(reductions \[2, 4, 8, 16, 32\]\): use '
                                                         r'indices in \[0, 4\]'),
    (dict(model_name='test_resnet', out_indices=('a',)), r'out_indices=\(.a.,\) must be a non-empty sequence'),
])
def test_bad_arguments_name_the_key(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TimmBackbone(**kwargs)


def test_in_channels_and_out_indices_reach_timm():
    backbone = TimmBackbone('test_resnet', in_channels=4, out_indices=(1, 3), output_stride=8).eval()
    assert backbone.model.conv1[0].in_channels == 4
    assert [s.reduction for s in backbone.feature_info] == [4, 8]
    assert [f.shape[1] for f in backbone(torch.randn(1, 4, 33, 33))] == [s.channels for s in backbone.feature_info]


# ------------------------------------------------------------------------------------------------ ImageNet weights


def _timm_file(tmp_path, name='test_resnet', seed=1, suffix='.safetensors'):
    """A timm classifier's weights (seeded random) in a file, as timm's hub repositories hold them."""
    torch.manual_seed(seed)
    classifier = timm.create_model(name)
    randomize_bn(classifier)
    path = tmp_path / f'{name}{suffix}'
    if suffix == '.safetensors':
        from safetensors.torch import save_file
        save_file(classifier.state_dict(), str(path))
    else:
        torch.save(classifier.state_dict(), path)
    return path


def _features_from_file(path, name='test_resnet', **kwargs):
    """timm's own loading of ``path`` into the features network: the reference."""
    return timm.create_model(name, features_only=True, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)),
                             **kwargs)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize('suffix', ['.safetensors', '.pth'])
@pytest.mark.parametrize('how', ['init_cfg', 'pretrained'])
def test_weights_from_a_timm_file_when_init_weights_runs(tmp_path, suffix, how):
    path = _timm_file(tmp_path, suffix=suffix)
    given = dict(init_cfg=dict(type='Pretrained', checkpoint=str(path))) if how == 'init_cfg' else \
        dict(pretrained=str(path))
    backbone = TimmBackbone('test_resnet', output_stride=16, **given)
    assert not _same_weights(backbone.model, _features_from_file(path))  # building reads nothing
    backbone.init_weights()
    assert _same_weights(backbone.model, _features_from_file(path))


@pytest.mark.parametrize('bands', [1, 2, 4, 6])
def test_other_band_counts_get_segkits_one_expansion_rule(tmp_path, bands):
    """The stem from the RGB filters as on every backbone (kept x 3/N, further bands their mean), not timm's
    cyclic repeat; every other weight as timm loads it."""
    from segkit.models.backbones.input_channels import expand_input_conv
    path = _timm_file(tmp_path)
    backbone = TimmBackbone('test_resnet', in_channels=bands, pretrained=str(path))
    backbone.init_weights()
    rgb = _features_from_file(path).state_dict()
    loaded = backbone.model.state_dict()
    assert loaded['conv1.0.weight'].shape[1] == bands
    assert torch.allclose(loaded['conv1.0.weight'], expand_input_conv(rgb['conv1.0.weight'], bands))
    assert all(torch.equal(loaded[key], value) for key, value in rgb.items() if key != 'conv1.0.weight')


@pytest.mark.parametrize('prefix', ['backbone.', None])
def test_a_segkit_backbone_file_loads_as_it_is(tmp_path, prefix):
    """A segmentor's checkpoint (prefix='backbone.') or a TimmBackbone state_dict, as it is (no timm conversion)."""
    torch.manual_seed(3)
    saved = TimmBackbone('test_resnet')
    randomize_bn(saved)
    state = {f'{prefix or ""}{k}': v for k, v in saved.state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'seg.pth')
    backbone = TimmBackbone('test_resnet', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'seg.pth'),
                                                         prefix=prefix))
    backbone.init_weights()
    assert _same_weights(backbone, saved)


def test_a_file_of_another_model_is_refused_by_name(tmp_path):
    path = _timm_file(tmp_path, name='test_efficientnet')
    backbone = TimmBackbone('test_resnet', pretrained=str(path))
    with pytest.raises(RuntimeError, match=r"(?s)TimmBackbone\('test_resnet'\): ImageNet weights from "
                                           r".*test_efficientnet.*Use the file of this model"):
        backbone.init_weights()
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        TimmBackbone('test_resnet', pretrained=str(tmp_path / 'missing.pth')).init_weights()


def test_pretrained_true_reads_the_hub_cache_offline(tmp_path, offline_hub):
    path = _timm_file(tmp_path)
    backbone = TimmBackbone('test_resnet', pretrained=True, output_stride=8)
    with pytest.raises(OSError, match=r"the Hugging Face cache .*timm.create_model\('test_resnet', pretrained=True"):
        backbone.init_weights()  # not cached yet, and the hub may not be asked
    repo = timm.models.get_pretrained_cfg('test_resnet').hf_hub_id
    fill_hub_cache(offline_hub, repo, {'model.safetensors': path})
    backbone.init_weights()
    assert _same_weights(backbone.model, _features_from_file(path, output_stride=8))


def test_default_init_keeps_timms_initialisation():
    torch.manual_seed(0)
    backbone = TimmBackbone('test_resnet')
    before = copy.deepcopy(backbone.state_dict())
    backbone.init_weights()
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())


def test_benchmark_gives_each_config_a_row(capsys):
    """tools/analysis_tools/benchmark.py --flops --markdown: time, multiply-adds (get_flops.py's count) and
    parameters of one config, as docs/timm.md's speed table lists them."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('benchmark', REPO / 'tools/analysis_tools/benchmark.py')
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    config = 'configs/timm/deeplabv3plus_regnety-016_512x512_voc.py'
    threads = torch.get_num_threads()
    try:
        result = benchmark.main([str(REPO / config), '--size', '64', '--iters', '1', '--threads', str(threads),
                                 '--markdown'])
    finally:
        torch.set_num_threads(threads)
    assert result['params_m'] == 11.97 and 0 < result['gmacs'] < 1  # 14.76 G at 512x512, a 64th of it here
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert row == f"| `{REPO / config}` | {result['median_ms']} | {result['gmacs']} | 11.97 M |"
