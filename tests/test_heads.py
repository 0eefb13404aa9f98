import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.registry import MODELS

from segkit.models.heads import ASPP, ASPPHead, DeepLabV3PlusDecoder, DepthwiseSeparableASPPHead, FCNHead
from segkit.models.losses import CrossEntropyLoss
from segkit.structures import PixelData, SegDataSample

BN = dict(type='BN')


def test_aspp_branches_follow_rates_and_kind():
    aspp = ASPP(in_channels=8, channels=4, dilations=(1, 2, 5), norm_cfg=BN)
    assert isinstance(aspp.branches[0], ConvModule) and aspp.branches[0].conv.kernel_size == (1, 1)
    assert [b.conv.dilation for b in aspp.branches[1:]] == [(2, 2), (5, 5)]
    assert aspp.project.conv.in_channels == 4 * 4  # 3 branches + image pooling
    sep = ASPP(in_channels=8, channels=4, dilations=(1, 3), separable=True, image_pooling=False,
               project_kernel_size=3, norm_cfg=BN)
    assert isinstance(sep.branches[1], DepthwiseSeparableConvModule)
    assert sep.branches[1].depthwise_conv.conv.dilation == (3, 3)
    assert sep.branches[1].depthwise_conv.conv.groups == 8
    assert sep.project.conv.in_channels == 2 * 4 and sep.project.conv.kernel_size == (3, 3)
    assert sep(torch.randn(2, 8, 9, 11)).shape == (2, 4, 9, 11)


def test_aspp_rejects_unknown_projection_kernel():
    with pytest.raises(ValueError, match='project_kernel_size'):
        ASPP(in_channels=8, channels=4, project_kernel_size=5)


def test_aspp_image_pooling_is_global_context():
    aspp = ASPP(in_channels=4, channels=3, dilations=(1,), norm_cfg=None).eval()
    x = torch.randn(1, 4, 6, 7)
    pooled = F.interpolate(aspp.image_pool(x), size=(6, 7), mode='bilinear')
    assert torch.allclose(pooled, pooled[..., :1, :1].expand_as(pooled))
    # changing one far-away pixel changes the pooled branch everywhere
    y = x.clone()
    y[..., 0, 0] += 10
    assert not torch.allclose(aspp.image_pool(x), aspp.image_pool(y))


def test_decoder_fuses_at_low_level_resolution():
    dec = DeepLabV3PlusDecoder(low_level_in_channels=6, encoder_channels=8, channels=5, low_level_channels=48,
                               norm_cfg=BN)
    assert dec.low_level_proj.conv.out_channels == 48
    assert dec.fuse[0].depthwise_conv.conv.in_channels == 8 + 48
    out = dec(torch.randn(2, 8, 4, 4), torch.randn(2, 6, 16, 16))
    assert out.shape == (2, 5, 16, 16)


def _samples(labels):
    out = []
    for lab in labels:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        out.append(s)
    return out


def test_head_loss_upsamples_logits_to_labels_and_ignores_255():
    head = ASPPHead(in_channels=4, channels=4, num_classes=3, dilations=(1,), dropout_ratio=0, norm_cfg=BN)
    feats = [torch.randn(2, 4, 4, 4)]
    labels = torch.randint(0, 3, (2, 16, 16))
    losses = head.loss(feats, _samples(labels))
    logits = F.interpolate(head(feats), size=(16, 16), mode='bilinear')
    assert torch.allclose(losses['loss_ce'], F.cross_entropy(logits, labels))
    ignored = labels.clone()
    ignored[:, :8] = 255
    losses = head.loss(feats, _samples(ignored))
    expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[:, 8:].reshape(-1, 3), labels[:, 8:].reshape(-1))
    assert torch.allclose(losses['loss_ce'], expected, atol=1e-6)
    assert 0 <= float(losses['acc_seg']) <= 100


def test_cross_entropy_weights_and_all_ignored():
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    labels = torch.randint(0, 3, (1, 4, 4))
    plain = CrossEntropyLoss()(logits, labels)
    assert torch.allclose(CrossEntropyLoss(loss_weight=0.4)(logits, labels), 0.4 * plain)
    weighted = CrossEntropyLoss(class_weight=[1.0, 0.0, 0.0])(logits, labels)
    mask = labels == 0
    if mask.any():
        expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[mask], labels[mask])
        assert torch.allclose(weighted, expected, atol=1e-6)
    zero = CrossEntropyLoss()(logits, torch.full((1, 4, 4), 255))
    zero.backward()
    assert zero.item() == 0 and logits.grad is not None
    with pytest.raises(ValueError, match='class_weight'):
        CrossEntropyLoss(class_weight=[1.0, 2.0])(logits, labels)


def test_mmseg_key_names_load_into_segkit_heads():
    head = DepthwiseSeparableASPPHead(in_channels=8, channels=4, num_classes=2, dilations=(1, 2),
                                      low_level_in_channels=6, low_level_channels=3, norm_cfg=BN)
    renames = {'aspp.image_pool.': 'image_pool.', 'aspp.branches.': 'aspp_modules.', 'aspp.project.': 'bottleneck.',
               'decoder.low_level_proj.': 'c1_bottleneck.', 'decoder.fuse.': 'sep_bottleneck.',
               'classifier.': 'conv_seg.'}
    mmseg = {}
    for key, value in head.state_dict().items():
        for new, old in renames.items():
            if key.startswith(new):
                key = old + key[len(new):]
                break
        mmseg[key] = torch.randn_like(value.float()).to(value.dtype)
    fresh = DepthwiseSeparableASPPHead(in_channels=8, channels=4, num_classes=2, dilations=(1, 2),
                                       low_level_in_channels=6, low_level_channels=3, norm_cfg=BN)
    result = fresh.load_state_dict(dict(mmseg), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh.classifier.weight, mmseg['conv_seg.weight'])
    assert torch.equal(fresh.decoder.fuse[1].pointwise_conv.conv.weight,
                       mmseg['sep_bottleneck.1.pointwise_conv.conv.weight'])


def test_fcn_head_concat_and_shapes():
    head = FCNHead(in_channels=6, channels=4, num_classes=3, num_convs=2, concat_input=True, norm_cfg=BN)
    assert head.conv_cat.conv.in_channels == 10
    assert head([torch.randn(2, 6, 5, 5)]).shape == (2, 3, 5, 5)
    with pytest.raises(ValueError, match='num_convs=0'):
        FCNHead(in_channels=6, channels=4, num_classes=3, num_convs=0)


def test_partial_loss_option_merges_onto_the_default_loss(monkeypatch):
    """--cfg-options model.decode_head.loss_decode.class_weight=[...] on a config without loss_decode (mmengine
    then gives loss_decode=dict(class_weight=[...])): the head's default cross-entropy with those weights, logged."""
    import segkit.models.heads.loss_config as loss_config
    from segkit.engine.config_setup import load_config, replace_sync_bn
    logged = []
    monkeypatch.setattr(loss_config, 'print_log', lambda message, **kwargs: logged.append(message))
    weights = [0.5, 1.0, 2.0, 1.0, 1.0, 3.0]
    cfg = load_config('configs/deeplabv3plus/r18_96x96_shapes.py',
                      {'model.decode_head.loss_decode.class_weight': weights})
    assert 'type' not in cfg.model.decode_head.loss_decode  # what mmengine's merge makes of the option
    model_cfg = replace_sync_bn(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    (loss,) = model.decode_head.losses
    assert type(loss).__name__ == 'CrossEntropyLoss' and loss.loss_weight == 1.0
    assert loss.class_weight.tolist() == weights and loss.ignore_index == 255
    assert len(logged) == 1 and 'merged onto the default loss' in logged[0] and 'CrossEntropyLoss' in logged[0]


def test_loss_list_entry_without_type_is_refused():
    with pytest.raises(ValueError, match=r"loss_decode\[1\]=\{'loss_weight': 0.5\} names no loss type.*single dict"):
        FCNHead(in_channels=4, channels=4, num_classes=2,
                loss_decode=[dict(type='CrossEntropyLoss'), dict(loss_weight=0.5)])
