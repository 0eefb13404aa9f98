"""DeepLab v1's LargeFOV head and DeepLab v2's sum-of-logits ASPP head: structure, rates, the sum, training."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS
from torch import nn

from helpers import fake_batch
from segkit.engine.config_setup import replace_sync_bn
from segkit.models.backbones.convert_vgg import decimate_vgg16_fc
from segkit.models.heads import LargeFOVHead, LogitSumASPPHead

ASPP_L, ASPP_S = (6, 12, 18, 24), (2, 4, 8, 12)


def largefov(**kwargs):
    return LargeFOVHead(**{'in_channels': 8, 'channels': 16, 'num_classes': 3, **kwargs})


def aspp(**kwargs):
    return LogitSumASPPHead(**{'in_channels': 8, 'channels': 16, 'num_classes': 3, **kwargs})


def features(seed=0, channels=8, size=9):
    return [torch.rand(2, channels, size, size, generator=torch.Generator().manual_seed(seed))]


def small_vgg_classifier(units=64, in_channels=8):
    g = torch.Generator().manual_seed(0)
    return {'classifier.0.weight': torch.randn(units, in_channels * 49, generator=g),
            'classifier.0.bias': torch.randn(units, generator=g),
            'classifier.3.weight': torch.randn(units, units, generator=g),
            'classifier.3.bias': torch.randn(units, generator=g)}


# ------------------------------------------------------------------------------------------------------ LargeFOV


def test_largefov_structure_and_shapes():
    head = largefov()
    fc6, fc7 = head.fc.fc6.conv, head.fc.fc7.conv
    assert (fc6.kernel_size, fc6.dilation, fc6.padding, fc6.out_channels) == ((3, 3), (12, 12), (12, 12), 16)
    assert (fc7.kernel_size, fc7.in_channels, fc7.out_channels) == ((1, 1), 16, 16)
    assert (head.classifier.kernel_size, head.classifier.in_channels, head.classifier.out_channels) == ((1, 1), 16, 3)
    assert isinstance(head.pool, nn.AvgPool2d) and (head.pool.kernel_size, head.pool.stride) == (3, 1)
    for drop in (head.fc.drop6, head.dropout):  # element-wise, as Caffe's, after fc6 and after fc7
        assert type(drop) is nn.Dropout and drop.p == 0.5
    assert head.eval()(features()).shape == (2, 3, 9, 9)
    assert LargeFOVHead(in_channels=512, num_classes=21).fc.fc6.conv.out_channels == 1024  # the paper's width


def test_largefov_avg_pool_is_pool5a():
    pooled, plain = largefov().eval(), largefov(avg_pool=False).eval()
    plain.load_state_dict(pooled.state_dict())
    x = features()
    torch.testing.assert_close(pooled(x), plain([F.avg_pool2d(x[0], 3, stride=1, padding=1)]))
    assert not torch.allclose(pooled(x), plain(x))


@pytest.mark.parametrize('kwargs, rate', [
    (dict(), 12), (dict(output_stride=8), 12), (dict(output_stride=16), 6), (dict(output_stride=32), 3),
    (dict(dilation=6, dilations_output_stride=16, output_stride=8), 12)])
def test_largefov_rate_follows_output_stride(kwargs, rate):
    head = largefov(**kwargs)
    assert head.dilation == rate and head.fc.fc6.conv.dilation == (rate, rate) == head.fc.fc6.conv.padding


def test_largefov_rate_errors():
    with pytest.raises(ValueError, match='output_stride=4'):
        largefov(output_stride=4)
    with pytest.raises(ValueError, match='rate 3 .* at output_stride=16'):
        largefov(output_stride=16, dilation=3)


# ------------------------------------------------------------------------------------------ v2 sum-of-logits ASPP


@pytest.mark.parametrize('branch', ['fc', 'conv'])
def test_head_logits_are_the_sum_of_branch_logits(branch):
    head = aspp(branch=branch).eval()
    x = features()
    branches = head.branch_logits(x)
    assert len(branches) == 4 and all(b.shape == (2, 3, 9, 9) for b in branches)
    torch.testing.assert_close(head(x), branches[0] + branches[1] + branches[2] + branches[3])
    # one classifier per branch, each on that branch's own features: nothing is concatenated
    in_channels = 16 if branch == 'fc' else 8
    assert [(c.in_channels, c.out_channels) for c in head.classifier] == [(in_channels, 3)] * 4


@pytest.mark.parametrize('branch', ['fc', 'conv'])
def test_zeroing_one_classifier_removes_exactly_that_branch(branch):
    head = aspp(branch=branch).eval()
    x = features(seed=1)
    before, contribution = head(x), head.branch_logits(x)[1]
    assert contribution.abs().max() > 1e-3
    with torch.no_grad():
        head.classifier[1].weight.zero_()
        head.classifier[1].bias.zero_()
    torch.testing.assert_close(head(x), before - contribution)
    assert head.branch_logits(x)[1].abs().max() == 0


@pytest.mark.parametrize('rates', [ASPP_L, ASPP_S], ids=['ASPP-L', 'ASPP-S'])
def test_rates_are_set_on_the_convs(rates):
    fc_head, conv_head = aspp(dilations=rates), aspp(dilations=rates, branch='conv')
    assert [b.fc6.conv.dilation[0] for b in fc_head.branches] == list(rates)
    assert [b.fc6.conv.padding[0] for b in fc_head.branches] == list(rates)
    assert all(b.fc7.conv.kernel_size == (1, 1) and b.fc6.conv.kernel_size == (3, 3) for b in fc_head.branches)
    assert [c.dilation[0] for c in conv_head.classifier] == [c.padding[0] for c in conv_head.classifier] == list(rates)
    assert all(c.kernel_size == (3, 3) for c in conv_head.classifier)
    assert aspp().dilations == ASPP_L  # the default is ASPP-L


@pytest.mark.parametrize('rates, output_stride, scaled', [
    (ASPP_L, 16, (3, 6, 9, 12)), (ASPP_S, 16, (1, 2, 4, 6)), (ASPP_L, 32, None), (ASPP_L, None, ASPP_L)])
def test_rates_follow_output_stride(rates, output_stride, scaled):
    if scaled is None:
        with pytest.raises(ValueError, match='rate 6'):
            aspp(dilations=rates, output_stride=output_stride)
        return
    head = aspp(dilations=rates, output_stride=output_stride, branch='conv')
    assert head.dilations == scaled and tuple(c.dilation[0] for c in head.classifier) == scaled


def test_dropout_defaults_and_bad_arguments():
    fc_head, conv_head = aspp(), aspp(branch='conv')
    assert type(fc_head.dropout) is nn.Dropout and fc_head.dropout.p == 0.5
    assert all(type(b.drop6) is nn.Dropout and b.drop6.p == 0.5 for b in fc_head.branches)
    assert isinstance(conv_head.dropout, nn.Identity)
    assert sum(p.numel() for p in conv_head.parameters()) == 4 * (8 * 3 * 9 + 3)  # four 3x3 convs to the classes
    with pytest.raises(ValueError, match="branch='vgg'"):
        aspp(branch='vgg')
    with pytest.raises(ValueError, match='dilations'):
        aspp(dilations=())
    with pytest.raises(ValueError, match='fc_checkpoint'):
        aspp(branch='conv', fc_checkpoint='vgg16.pth')


@pytest.mark.parametrize('make', [largefov, aspp, lambda: aspp(branch='conv')], ids=['largefov', 'fc', 'conv'])
def test_classifiers_start_normal_001(make):
    torch.manual_seed(0)
    head = make()
    head.init_weights()
    classifiers = head.classifier if isinstance(head.classifier, nn.ModuleList) else [head.classifier]
    weights = torch.cat([c.weight.flatten() for c in classifiers])
    assert 0.007 < weights.std() < 0.013 and abs(weights.mean()) < 0.003
    assert all(torch.equal(c.bias, torch.zeros(3)) for c in classifiers)


def test_fc_checkpoint_initialises_fc6_fc7(tmp_path):
    state = small_vgg_classifier(units=64, in_channels=8)
    torch.save(state, tmp_path / 'vgg16.pth')
    expected = decimate_vgg16_fc(state, channels=16)
    heads = [largefov(fc_checkpoint=str(tmp_path / 'vgg16.pth')), aspp(fc_checkpoint=str(tmp_path / 'vgg16.pth'))]
    for head in heads:
        head.init_weights()
    for block in [heads[0].fc, *heads[1].branches]:
        assert torch.equal(block.fc6.conv.weight, expected['fc6.conv.weight'])
        assert torch.equal(block.fc7.conv.weight, expected['fc7.conv.weight'])
    assert not torch.equal(largefov().fc.fc6.conv.weight, expected['fc6.conv.weight'])


# ------------------------------------------------------------------------------------- models and training recipe


def tiny_model(head):
    return dict(type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor', size_divisor=8),
                output_stride=8, backbone=dict(type='VGG16', base_channels=4, out_indices=(4, )),
                decode_head=dict(in_channels=32, num_classes=3, **head))


@pytest.mark.parametrize('head', [dict(type='LargeFOVHead', channels=8),
                                  dict(type='LogitSumASPPHead', channels=8, dilations=ASPP_S),
                                  dict(type='LogitSumASPPHead', branch='conv')], ids=['v1', 'v2-fc', 'v2-conv'])
def test_tiny_model_trains_one_step(head):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model(head))
    model.init_weights()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    data = model.data_preprocessor(fake_batch(n=2, size=(40, 48)), True)
    losses = model(**data, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss) and loss > 0
    before = model.backbone.layer1[0].conv.weight.detach().clone()
    loss.backward()
    classifiers = model.decode_head.classifier
    classifiers = classifiers if isinstance(classifiers, nn.ModuleList) else [classifiers]
    for module in [model.backbone.layer1[0].conv, *classifiers]:
        assert module.weight.grad is not None and module.weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before, model.backbone.layer1[0].conv.weight)
    model.eval()
    with torch.no_grad():
        (sample, _) = model.predict(data['inputs'], data['data_samples'])
    assert sample.pred_sem_seg.data.shape == (1, 40, 48)


def shrunk_model(cfg):
    """The config's model with the same parameter names, narrow enough to build in a test."""
    model_cfg = replace_sync_bn(copy.deepcopy(cfg.model))
    backbone, head = model_cfg.backbone, model_cfg.decode_head
    backbone.pop('init_cfg', None)
    head.pop('fc_checkpoint', None)
    if backbone.type == 'VGG16':
        backbone.update(base_channels=4)
        head.update(in_channels=32, channels=8)
    else:
        backbone.update(depth=18, stem_channels=8, base_channels=8)
        head.update(in_channels=64)
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('config', ['deeplabv1/vgg16_largefov_321x321_voc.py', 'deeplabv2/vgg16_aspp-l_321x321_voc.py',
                                    'deeplabv2/r101_aspp-l_321x321_voc.py',
                                    'deeplabv2/vgg16_aspp-l_321x321_camvid.py'])
def test_classifier_layers_get_10x_learning_rate(config):
    cfg = Config.fromfile(f'configs/{config}')
    model = shrunk_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    names = {id(p): n for n, p in model.named_parameters()}
    lrs = {names[id(p)]: group['lr'] for group in optim_wrapper.optimizer.param_groups for p in group['params']}
    trained = [n for n, p in model.named_parameters() if p.requires_grad]
    boosted = [n for n in trained if n.startswith('decode_head.classifier')]
    branches = 1 if cfg.model.decode_head.type == 'LargeFOVHead' else 4
    assert len(boosted) == 2 * branches  # weight and bias of every fc8
    for name in trained:
        assert lrs[name] == pytest.approx(base_lr * (10 if name in boosted else 1)), name
