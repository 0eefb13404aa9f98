"""Binary segmentation with one sigmoid channel (num_classes=1): binary cross-entropy (pos_weight), Dice and
Tversky of the foreground against hand values, the head's channel checks, and predictions and metrics identical to
the 2-class softmax route on the same scores."""
import math

import numpy as np
import pytest
import torch
from mmengine.model.utils import revert_sync_batchnorm

from segkit.engine.consistency import check_num_classes
from segkit.evaluation import IoUMetric
from segkit.models.losses import CrossEntropyLoss, DiceLoss, FocalLoss, LovaszLoss, TverskyLoss, pixel_accuracy
from segkit.registry import MODELS
from segkit.structures import PixelData, SegDataSample
from tests.helpers import randomise_bn, tiny_deeplabv3plus

# three pixels: foreground probabilities 0.8 (label 1), 0.4 (label 0), 0.3 (label 1), and one ignored pixel
P = [0.8, 0.4, 0.3, 0.9]
Y = [1, 0, 1, 255]


def sigmoid_logits(probs):
    p = torch.tensor(probs, dtype=torch.float64)
    return torch.log(p / (1 - p))[None, None, None, :]  # 1 x 1 x 1 x P


def labels_of(values):
    return torch.tensor(values)[None, None, :]


def test_binary_cross_entropy_and_pos_weight_known_values():
    logits, labels = sigmoid_logits(P), labels_of(Y)
    terms = [-math.log(0.8), -math.log(0.6), -math.log(0.3)]
    assert CrossEntropyLoss(use_sigmoid=True)(logits, labels).item() == pytest.approx(sum(terms) / 3)
    weighted = [3 * terms[0], terms[1], 3 * terms[2]]  # pos_weight multiplies the foreground terms only
    assert CrossEntropyLoss(use_sigmoid=True, pos_weight=3.0)(logits, labels).item() == pytest.approx(
        sum(weighted) / 3)
    assert CrossEntropyLoss(use_sigmoid=True, class_weight=[1.0, 3.0])(logits, labels).item() == pytest.approx(
        sum(weighted) / 7)
    assert CrossEntropyLoss(use_sigmoid=True, avg_non_ignore=False)(logits, labels).item() == pytest.approx(
        sum(terms) / 4)
    # the same numbers as softmax cross-entropy over the 2-class logits (0, z)
    two_class = torch.cat([torch.zeros_like(logits), logits], dim=1)
    assert CrossEntropyLoss()(two_class, labels).item() == pytest.approx(sum(terms) / 3)
    with pytest.raises(ValueError, match=r'labels must be 0 \(background\), 1 \(foreground\).*\[2\]'):
        CrossEntropyLoss(use_sigmoid=True)(logits, labels_of([1, 2, 0, 255]))


def test_dice_and_tversky_on_one_channel_score_the_foreground():
    logits, labels = sigmoid_logits(P), labels_of(Y)
    tp, fp, fn = 0.8 + 0.3, 0.4, 0.2 + 0.7  # soft counts of the foreground over the labelled pixels
    dice = (2 * tp + 1) / (0.8**2 + 0.4**2 + 0.3**2 + 2 + 1)
    assert DiceLoss()(logits, labels).item() == pytest.approx(1 - dice)
    dice1 = (2 * tp + 1) / (tp + fp + 2 + 1)
    assert DiceLoss(exponent=1)(logits, labels).item() == pytest.approx(1 - dice1)
    tversky = (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1)
    assert TverskyLoss()(logits, labels).item() == pytest.approx(1 - tversky)
    assert TverskyLoss(gamma=2.0)(logits, labels).item() == pytest.approx((1 - tversky) ** 2)
    # alpha = beta = 1/2 is the Dice loss with exponent 1 (without smoothing), on both kinds of head
    half = TverskyLoss(alpha=0.5, beta=0.5, smooth=0)
    assert half(logits, labels).item() == pytest.approx(1 - 2 * tp / (tp + fp + 2))
    assert half(logits, labels).item() == pytest.approx(DiceLoss(exponent=1, smooth=0)(logits, labels).item())
    probs = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]], dtype=torch.float64)
    softmax_logits = probs.log().t()[None, :, None, :]
    assert half(softmax_logits, labels_of([0, 1, 0])).item() == pytest.approx(
        DiceLoss(exponent=1, smooth=0)(softmax_logits, labels_of([0, 1, 0])).item())


def test_other_losses_read_one_channel_as_two_classes():
    logits, labels = sigmoid_logits(P), labels_of(Y)
    two_class = torch.cat([torch.zeros_like(logits), logits], dim=1)
    for loss in (FocalLoss(), LovaszLoss()):
        assert loss(logits, labels).item() == pytest.approx(loss(two_class, labels).item())
    assert pixel_accuracy(logits, labels).item() == pytest.approx(100 * 2 / 3)  # 0.3 -> background: wrong


@pytest.mark.parametrize('loss, message', [
    (dict(type='CrossEntropyLoss'), "num_classes=1 is a one-channel sigmoid head.*use_sigmoid=True"),
    (dict(type='BootstrappedCrossEntropyLoss'), 'BootstrappedCrossEntropyLoss is a softmax loss and num_classes=1'),
])
def test_one_channel_head_refuses_softmax_losses(loss, message):
    cfg = tiny_deeplabv3plus(num_classes=1, aux=False)
    cfg['decode_head']['loss_decode'] = loss
    with pytest.raises(ValueError, match=r'DepthwiseSeparableASPPHead.loss_decode: ' + message):
        MODELS.build(cfg)


def test_sigmoid_loss_on_a_softmax_head_is_refused():
    cfg = tiny_deeplabv3plus(num_classes=2, aux=False)
    cfg['decode_head']['loss_decode'] = dict(type='CrossEntropyLoss', use_sigmoid=True)
    with pytest.raises(ValueError, match='use_sigmoid=True.*num_classes=2: set num_classes=1'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='pos_weight .* needs use_sigmoid=True'):
        CrossEntropyLoss(pos_weight=2.0)


def sigmoid_model_cfg(**test_cfg):
    cfg = tiny_deeplabv3plus(num_classes=1, aux=False)
    cfg['decode_head']['loss_decode'] = dict(type='CrossEntropyLoss', use_sigmoid=True)
    cfg['test_cfg'] = test_cfg
    return cfg


def test_one_channel_head_fits_a_two_class_dataset_only():
    model = MODELS.build(sigmoid_model_cfg())

    class Data:
        def __init__(self, classes):
            self.metainfo = dict(classes=classes)
    check_num_classes(model, Data(('background', 'leaf')), 'train_dataloader')
    with pytest.raises(ValueError, match='model.decode_head.num_classes is 1 but .* has 3 classes'):
        check_num_classes(model, Data(('a', 'b', 'c')), 'train_dataloader')


def binary_pair(threshold: float, images: torch.Tensor):
    """A one-channel sigmoid segmentor and a 2-class softmax one with the same network whose logits are
    (0, z - logit(threshold)), z the sigmoid model's: the softmax arg-max is 1 exactly where sigmoid(z) >
    threshold. The sigmoid's bias puts the cut at the median score of ``images``, so both labels are predicted."""
    torch.manual_seed(0)
    sigmoid = randomise_bn(revert_sync_batchnorm(MODELS.build(sigmoid_model_cfg(threshold=threshold)))).eval()
    torch.nn.init.normal_(sigmoid.decode_head.classifier.weight, std=0.5)
    with torch.no_grad():
        scores = sigmoid.decode_head(sigmoid.extract_feat(sigmoid.data_preprocessor(dict(inputs=list(images)))[
            'inputs']))
        sigmoid.decode_head.classifier.bias.sub_(scores.median() - math.log(threshold / (1 - threshold)))
    softmax = revert_sync_batchnorm(MODELS.build(tiny_deeplabv3plus(num_classes=2, aux=False))).eval()
    state = sigmoid.state_dict()
    weight, bias = state['decode_head.classifier.weight'], state['decode_head.classifier.bias']
    state['decode_head.classifier.weight'] = torch.cat([torch.zeros_like(weight), weight])
    state['decode_head.classifier.bias'] = torch.cat([torch.zeros_like(bias),
                                                      bias - math.log(threshold / (1 - threshold))])
    softmax.load_state_dict(state)
    return sigmoid, softmax


def evaluate(model, images, labels):
    samples = []
    for label in labels:
        sample = SegDataSample(metainfo=dict(ori_shape=label.shape, img_shape=label.shape))
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    with torch.no_grad():
        outputs = model.test_step(dict(inputs=list(images), data_samples=samples))
    metric = IoUMetric(iou_metrics=['mIoU', 'mDice', 'mFscore'])
    metric.dataset_meta = dict(classes=('background', 'foreground'))
    metric.process({}, [o.to_dict() for o in outputs])
    return [o.pred_sem_seg.data for o in outputs], metric.compute_metrics(metric.results)


@pytest.mark.parametrize('threshold', [0.5, 0.3])
def test_sigmoid_and_softmax_routes_give_identical_predictions_and_metrics(threshold):
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (3, 3, 40, 48), dtype=torch.uint8, generator=g)
    sigmoid, softmax = binary_pair(threshold, images)
    labels = torch.randint(0, 2, (3, 40, 48), generator=g)
    labels[:, :5] = 255
    preds_a, metrics_a = evaluate(sigmoid, images, labels)
    preds_b, metrics_b = evaluate(softmax, images, labels)
    assert all(torch.equal(a, b) for a, b in zip(preds_a, preds_b))
    foreground = torch.cat([p.flatten() for p in preds_a]).float().mean().item()
    assert 0.05 < foreground < 0.95  # both labels are predicted, so the comparison means something
    assert metrics_a == metrics_b
    # the foreground figures against counts made here
    pred, label = torch.cat([p.flatten() for p in preds_a]), labels.flatten()
    valid = label != 255
    tp = int(((pred == 1) & (label == 1) & valid).sum())
    fp = int(((pred == 1) & (label == 0) & valid).sum())
    fn = int(((pred == 0) & (label == 1) & valid).sum())
    expected = dict(fg_IoU=tp / (tp + fp + fn), fg_Dice=2 * tp / (2 * tp + fp + fn), fg_Precision=tp / (tp + fp),
                    fg_Recall=tp / (tp + fn))
    for key, value in expected.items():
        assert metrics_a[key] == pytest.approx(100 * value)
    assert metrics_a['mIoU'] == pytest.approx(100 * np.mean([
        int(((pred == 0) & (label == 0) & valid).sum()) / int((((pred == 0) | (label == 0)) & valid).sum()),
        value_iou := tp / (tp + fp + fn)]))
    assert value_iou > 0
