"""Focal, Dice, Lovasz and bootstrapped cross-entropy against hand-computed values; a head's list of losses."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from segkit.models.heads import ASPPHead
from segkit.models.losses import (BootstrappedCrossEntropyLoss, CrossEntropyLoss, DiceLoss, FocalLoss, LovaszLoss,
                                  lovasz_gradient)
from segkit.registry import LOSSES
from tests.helpers import label_samples


def logits_for(probs):
    """1 x C x 1 x P logits whose softmax over C is ``probs`` (P x C)."""
    return torch.log(torch.tensor(probs, dtype=torch.float64)).t()[None, :, None, :]


def labels_for(values):
    return torch.tensor(values)[None, None, :]


# pixel 0: p = (1/2, 1/2), label 0; pixel 1: p = (3/4, 1/4), label 1; pixel 2: ignored
PROBS = [[0.5, 0.5], [0.75, 0.25], [0.9, 0.1]]
LABELS = [0, 1, 255]


def test_focal_loss_known_values():
    logits, labels = logits_for(PROBS), labels_for(LABELS)
    pixel0 = 0.5**2 * math.log(2)  # (1 - p_t)^2 * -log p_t
    pixel1 = 0.75**2 * math.log(4)
    assert FocalLoss()(logits, labels).item() == pytest.approx((pixel0 + pixel1) / 2)
    assert FocalLoss(avg_non_ignore=False)(logits, labels).item() == pytest.approx((pixel0 + pixel1) / 3)
    weighted = FocalLoss(class_weight=[3.0, 1.0])(logits, labels).item()
    assert weighted == pytest.approx((3 * pixel0 + pixel1) / 4)
    assert FocalLoss(gamma=0)(logits, labels).item() == pytest.approx((math.log(2) + math.log(4)) / 2)
    assert FocalLoss(gamma=0.0, loss_weight=0.5)(logits, labels).item() == pytest.approx(
        0.5 * CrossEntropyLoss()(logits, labels).item())


def test_cross_entropy_avg_non_ignore_false_divides_by_all_pixels():
    logits, labels = logits_for(PROBS), labels_for(LABELS)
    assert CrossEntropyLoss(avg_non_ignore=False)(logits, labels).item() == pytest.approx(
        (math.log(2) + math.log(4)) / 3)
    assert CrossEntropyLoss(class_weight=[3.0, 1.0], avg_non_ignore=False)(logits, labels).item() == pytest.approx(
        (3 * math.log(2) + math.log(4)) / 3)


def test_dice_loss_known_values():
    logits, labels = logits_for(PROBS), labels_for(LABELS)
    # class 0: 2 * 0.5 / (0.5^2 + 0.75^2 + 1) ; class 1: 2 * 0.25 / (0.5^2 + 0.25^2 + 1); smooth 1 on both sides
    dice0 = (2 * 0.5 + 1) / (0.25 + 0.5625 + 1 + 1)
    dice1 = (2 * 0.25 + 1) / (0.25 + 0.0625 + 1 + 1)
    assert DiceLoss()(logits, labels).item() == pytest.approx(1 - (dice0 + dice1) / 2)
    assert DiceLoss(class_weight=[2.0, 0.0])(logits, labels).item() == pytest.approx(2 * (1 - dice0) / 2)
    assert DiceLoss(avg_non_ignore=False)(logits, labels).item() == pytest.approx((1 - (dice0 + dice1) / 2) * 2 / 3)
    exact = DiceLoss(smooth=0.0)(logits_for([[1 - 1e-9, 1e-9], [1e-9, 1 - 1e-9]]), labels_for([0, 1]))
    assert exact.item() == pytest.approx(0.0, abs=1e-6)


def test_dice_per_image_averages_images_with_labels():
    logits = torch.cat([logits_for(PROBS[:2]), logits_for([[0.2, 0.8], [0.6, 0.4]])])
    labels = torch.cat([labels_for([0, 1]), labels_for([255, 255])])
    single = DiceLoss()(logits[:1], labels[:1])
    assert DiceLoss(per_image=True)(logits, labels).item() == pytest.approx(single.item())
    assert DiceLoss(per_image=True, avg_non_ignore=False)(logits, labels).item() == pytest.approx(single.item() / 2)


def test_lovasz_gradient_hand_values():
    grad = lovasz_gradient(torch.tensor([[1.0], [0.0], [1.0]]))[:, 0]
    # Jaccard losses of the growing mispredicted sets: 1 - 1/2, 1 - 1/3, 1 - 0/3
    assert grad.tolist() == pytest.approx([0.5, 1 / 6, 1 / 3])


def jaccard_set_loss(mispredicted, positives):
    """Delta_J of the paper's eq. 5: |M| / |positives U M|."""
    return len(mispredicted) / len(positives | mispredicted) if mispredicted else 0.0


def brute_force_lovasz(probs, labels, classes):
    """The Lovasz extension of Delta_J, evaluated from set functions (paper eq. 8), averaged over ``classes``."""
    losses = []
    for c in classes:
        positives = {i for i, y in enumerate(labels) if y == c}
        errors = [abs(float(y == c) - p[c]) for p, y in zip(probs, labels)]
        order = sorted(range(len(errors)), key=lambda i: -errors[i])
        total = 0.0
        for rank, i in enumerate(order):
            total += errors[i] * (jaccard_set_loss(set(order[:rank + 1]), positives)
                                  - jaccard_set_loss(set(order[:rank]), positives))
        losses.append(total)
    return sum(losses) / len(losses)


def test_lovasz_matches_brute_force_set_function():
    g = torch.Generator().manual_seed(0)
    probs = F.softmax(torch.randn(9, 3, generator=g, dtype=torch.float64), dim=1)
    labels = [0, 2, 2, 0, 1, 2, 0, 2, 2]
    logits = torch.log(probs).t()[None, :, None, :]
    got = LovaszLoss()(logits, labels_for(labels)).item()
    assert got == pytest.approx(brute_force_lovasz(probs.tolist(), labels, range(3)))
    labels_no_1 = [0, 2, 2, 0, 0, 2, 0, 2, 2]
    present = LovaszLoss()(logits, labels_for(labels_no_1)).item()
    assert present == pytest.approx(brute_force_lovasz(probs.tolist(), labels_no_1, [0, 2]))
    every = LovaszLoss(classes='all')(logits, labels_for(labels_no_1)).item()
    assert every == pytest.approx(brute_force_lovasz(probs.tolist(), labels_no_1, [0, 1, 2]))
    assert LovaszLoss(classes=[1])(logits, labels_for(labels_no_1)).item() == pytest.approx(
        brute_force_lovasz(probs.tolist(), labels_no_1, [1]))


def test_lovasz_on_hard_predictions_is_one_minus_iou():
    pred = [0, 0, 1, 1, 1, 2]
    labels = [0, 1, 1, 1, 2, 2]
    logits = 60.0 * F.one_hot(torch.tensor(pred), 3).double().t()[None, :, None, :]
    ious = [1 / 2, 2 / 4, 1 / 2]  # class 0: {0} / {0,1}; class 1: {2,3} / {1,2,3,4}; class 2: {5} / {4,5}
    assert LovaszLoss()(logits, labels_for(labels)).item() == pytest.approx(1 - sum(ious) / 3)
    ignored = LovaszLoss()(torch.cat([logits, logits[..., :1]], dim=-1), labels_for(labels + [255])).item()
    assert ignored == pytest.approx(1 - sum(ious) / 3)


def test_lovasz_per_image_and_batch():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 4, 4, generator=g)
    labels = torch.randint(0, 3, (2, 4, 4), generator=g)
    per_image = LovaszLoss(per_image=True)(logits, labels)
    singles = [LovaszLoss()(logits[i:i + 1], labels[i:i + 1]) for i in range(2)]
    assert per_image.item() == pytest.approx(sum(s.item() for s in singles) / 2)
    flat_probs = F.softmax(logits, 1).permute(0, 2, 3, 1).reshape(-1, 3).tolist()
    assert LovaszLoss()(logits, labels).item() == pytest.approx(
        brute_force_lovasz(flat_probs, labels.flatten().tolist(), sorted(set(labels.flatten().tolist()))), rel=1e-5)


def test_bootstrapped_cross_entropy_top_k_and_annealing():
    # per-pixel CE: ln 2, ln 4, ln(10/9), ln 10, and an ignored pixel; 5 pixels in the batch
    logits = logits_for([[0.5, 0.5], [0.75, 0.25], [0.9, 0.1], [0.9, 0.1], [0.3, 0.7]])
    labels = labels_for([0, 1, 0, 1, 255])
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 0)
    half = BootstrappedCrossEntropyLoss(top_k_percent_pixels=0.4)  # k = int(0.4 * 5) = 2: ln 10 and ln 4
    assert half(logits, labels).item() == pytest.approx((math.log(10) + math.log(4)) / 2)
    full = BootstrappedCrossEntropyLoss()  # all 5 kept; the ignored one is not counted
    assert full(logits, labels).item() == pytest.approx(CrossEntropyLoss()(logits, labels).item())
    annealed = BootstrappedCrossEntropyLoss(top_k_percent_pixels=0.2, hard_example_mining_step=100)
    assert [annealed.kept_fraction(i) for i in (0, 50, 100, 400)] == pytest.approx([1.0, 0.6, 0.2, 0.2])
    hub.update_info('iter', 50)  # fraction 0.6: k = 3 -> ln 10, ln 4, ln 2
    assert annealed(logits, labels).item() == pytest.approx((math.log(10) + math.log(4) + math.log(2)) / 3)
    hub.update_info('iter', 1000)  # fraction 0.2: k = 1
    assert annealed(logits, labels).item() == pytest.approx(math.log(10))
    hub.update_info('iter', 0)


@pytest.mark.parametrize('cfg', [dict(type='FocalLoss'), dict(type='DiceLoss'), dict(type='LovaszLoss'),
                                 dict(type='LovaszLoss', per_image=True),
                                 dict(type='BootstrappedCrossEntropyLoss', top_k_percent_pixels=0.5)])
def test_losses_all_ignored_and_gradients(cfg):
    loss_fn = LOSSES.build(cfg)
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    labels = torch.randint(0, 3, (2, 4, 4))
    loss_fn(logits, labels).backward()
    assert logits.grad.abs().sum() > 0
    zero = loss_fn(logits, torch.full((2, 4, 4), 255))
    assert zero.item() == 0 and zero.requires_grad
    with pytest.raises(ValueError, match='class_weight has 2 entries'):
        LOSSES.build(dict(cfg, class_weight=[1.0, 1.0]))(logits, labels)
    with pytest.raises(ValueError, match="must start with 'loss_'"):
        LOSSES.build(dict(cfg, loss_name='dice'))


def test_head_logs_each_loss_and_the_model_sums_them():
    head = ASPPHead(in_channels=4, channels=4, num_classes=3, dilations=(1, ), dropout_ratio=0,
                    norm_cfg=dict(type='BN'), loss_decode=[
                        dict(type='CrossEntropyLoss', loss_weight=1.0),
                        dict(type='DiceLoss', loss_weight=3.0),
                        dict(type='LovaszLoss', loss_weight=0.5, loss_name='loss_lovasz'),
                        dict(type='FocalLoss', loss_weight=2.0, loss_name='loss_lovasz')])
    feats = [torch.randn(2, 4, 4, 4)]
    labels = torch.randint(0, 3, (2, 8, 8))
    losses = head.loss(feats, label_samples(labels))
    logits = F.interpolate(head(feats), size=(8, 8), mode='bilinear')
    assert set(losses) == {'loss_ce', 'loss_dice', 'loss_lovasz', 'acc_seg'}
    assert losses['loss_ce'].item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert losses['loss_dice'].item() == pytest.approx(3 * DiceLoss()(logits, labels).item(), rel=1e-5)
    same_name = 0.5 * LovaszLoss()(logits, labels) + 2 * FocalLoss()(logits, labels)
    assert losses['loss_lovasz'].item() == pytest.approx(same_name.item(), rel=1e-5)
    from mmengine.model import BaseModel
    total, log_vars = BaseModel.parse_losses(None, {f'decode.{k}': v for k, v in losses.items()})
    assert set(log_vars) == {'loss', 'decode.loss_ce', 'decode.loss_dice', 'decode.loss_lovasz', 'decode.acc_seg'}
    expected = sum(losses[k].item() for k in ('loss_ce', 'loss_dice', 'loss_lovasz'))
    assert total.item() == pytest.approx(expected, rel=1e-6) and float(log_vars['loss']) == pytest.approx(expected)


def test_brute_force_helper_agrees_with_known_iou():
    # the test's own reference: with 0/1 errors the extension is the set function itself
    probs = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    labels = [0, 1, 1]
    assert brute_force_lovasz(probs, labels, [1]) == pytest.approx(1 - 1 / 2)
