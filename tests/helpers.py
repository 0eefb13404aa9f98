"""Small model configs and fake batches shared by the tests."""
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from segkit.structures import PixelData, SegDataSample

BN = dict(type='BN', requires_grad=True)


def tiny_deeplabv3plus(num_classes=3, aux=True, separable=True):
    """ResNetV1c-18 with 8 base channels at output stride 8 and a 16-channel DeepLabv3+ head."""
    cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size_divisor=8),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), norm_cfg=BN),
        decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=64, in_index=3, channels=16,
                         dilations=(1, 2, 3), separable=separable, low_level_in_channels=8, low_level_channels=4,
                         num_classes=num_classes, norm_cfg=BN),
    )
    if aux:
        cfg['auxiliary_head'] = dict(type='FCNHead', in_channels=32, in_index=2, channels=8, num_convs=1,
                                     concat_input=False, num_classes=num_classes, norm_cfg=BN,
                                     loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))
    return cfg


def fake_batch(n=2, size=(40, 48), num_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, *size), dtype=torch.uint8, generator=g))
        sample = SegDataSample(metainfo=dict(ori_shape=size, img_shape=size))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size), generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def label_samples(labels):
    """SegDataSamples carrying each HxW label map of ``labels`` as ``gt_sem_seg``."""
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label[None])
        samples.append(sample)
    return samples


def randomise_bn(model, seed=0):
    """Non-trivial BN statistics and affine parameters, so a wrong fold cannot go unnoticed."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(n, generator=g))
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return model
