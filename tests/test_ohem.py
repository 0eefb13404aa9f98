"""OHEMPixelSampler: which pixels it keeps, and a decode head whose losses see only those."""
import pytest
import torch
import torch.nn.functional as F

from segkit.models.heads import ASPPHead
from segkit.models.samplers import OHEMPixelSampler
from segkit.registry import PIXEL_SAMPLERS
from tests.helpers import label_samples

# true-class probabilities of six pixels; the last one is ignored
TRUE_PROB = [0.9, 0.2, 0.6, 0.4, 0.95, 0.5]
LABELS = torch.tensor([[[0, 1, 0, 1, 0, 255]]])


def two_class_logits(true_prob, labels):
    """1 x 2 x 1 x P logits giving each pixel ``true_prob`` on its label (class 0 for ignored pixels)."""
    p0 = torch.tensor([p if y != 1 else 1 - p for p, y in zip(true_prob, labels.flatten().tolist())])
    return torch.log(torch.stack([p0, 1 - p0]))[None, :, None, :]


def kept(sampler, logits=None, labels=LABELS):
    logits = two_class_logits(TRUE_PROB, labels) if logits is None else logits
    return torch.nonzero(sampler.sample(logits, labels).flatten()).flatten().tolist()


def test_threshold_keeps_pixels_below_it():
    assert kept(OHEMPixelSampler(thresh=0.7, min_kept=1)) == [1, 2, 3]


def test_min_kept_raises_the_threshold():
    assert kept(OHEMPixelSampler(thresh=0.3, min_kept=3)) == [1, 2, 3]  # 0.2 alone is below 0.3
    assert kept(OHEMPixelSampler(thresh=0.3, min_kept=1)) == [1]


def test_without_threshold_keeps_exactly_the_hardest():
    assert kept(OHEMPixelSampler(min_kept=2)) == [1, 3]
    assert kept(OHEMPixelSampler(min_kept=100)) == [0, 1, 2, 3, 4]  # every labelled pixel, never the ignored one


def test_min_kept_is_per_image():
    labels = torch.cat([LABELS, LABELS])
    second = [0.9, 0.25, 0.6, 0.4, 0.95, 0.5]
    logits = torch.cat([two_class_logits(TRUE_PROB, LABELS), two_class_logits(second, LABELS)])
    assert kept(OHEMPixelSampler(min_kept=1), logits, labels) == [1, 7]  # 2 kept: 0.2 and 0.25


def test_head_losses_see_only_kept_pixels():
    torch.manual_seed(0)
    head = ASPPHead(in_channels=4, channels=4, num_classes=3, dilations=(1, ), dropout_ratio=0,
                    norm_cfg=dict(type='BN'), sampler=dict(type='OHEMPixelSampler', thresh=0.5, min_kept=10))
    head.classifier.weight.data.mul_(100)  # initial logits are near 0 (every pixel at 1/3, all below 0.5)
    assert isinstance(head.sampler, OHEMPixelSampler) and head.sampler.ignore_index == 255
    feats = [torch.randn(2, 4, 4, 4)]
    labels = torch.randint(0, 3, (2, 8, 8))
    losses = head.loss(feats, label_samples(labels))
    logits = F.interpolate(head(feats), size=(8, 8), mode='bilinear')
    true_prob = F.softmax(logits, 1).gather(1, labels[:, None])[:, 0]
    hard = (true_prob < 0.5) | (true_prob <= true_prob.flatten().kthvalue(20).values)  # min_kept 10 x 2 images
    pixel_ce = F.cross_entropy(logits, labels, reduction='none')
    assert 20 <= int(hard.sum()) < 128
    assert losses['loss_ce'].item() == pytest.approx(pixel_ce[hard].mean().item(), rel=1e-5)
    accuracy = (logits.argmax(1) == labels).float().mean().item() * 100
    assert losses['acc_seg'].item() == pytest.approx(accuracy)  # over all pixels, not the kept ones


def test_errors_and_registry():
    assert isinstance(PIXEL_SAMPLERS.build(dict(type='OHEMPixelSampler', thresh=0.7)), OHEMPixelSampler)
    with pytest.raises(ValueError, match='thresh is a probability'):
        OHEMPixelSampler(thresh=7)


def test_min_kept_of_a_whole_crop_is_warned_once(capsys):
    """MMSegmentation's min_kept=100000 on a 256x256 crop keeps every pixel: said once, with a value that works."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('test_ohem_noop')  # the 'current' logger, printing to the console
    sampler = OHEMPixelSampler(thresh=0.7, min_kept=6)
    capsys.readouterr()
    assert kept(sampler) == [0, 1, 2, 3, 4]
    assert kept(sampler) == [0, 1, 2, 3, 4]
    assert kept(OHEMPixelSampler(thresh=0.7, min_kept=5)) == [0, 1, 2, 3, 4]  # 5 of 6 pixels: not a no-op
    out = capsys.readouterr().out
    assert out.count('OHEMPixelSampler') == 1
    assert 'min_kept=6 per image' in out and '1x6 crop' in out and 'e.g. 1)' in out
