# DeepLab v2 ASPP-L with ResNet-101 (arXiv:1606.00915; the released ResNet-101 model): output stride 8 (model.output_stride: strides
# (1, 2, 1, 1), dilations (1, 1, 2, 4)), then per rate (6, 12, 18, 24) one 3x3 atrous conv from the 2048 backbone
# channels straight to the classes, initialised N(0, 0.01); the four logits are summed. BN is frozen as in the
# released Caffe model (statistics and affine weights fixed). Differences from the paper: ResNetV1c (3-conv stem,
# MMSegmentation's ImageNet weights) instead of the original ResNet-101, and no multi-scale input fusion (MSC) or
# MS-COCO pre-training.
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=8,
    backbone=dict(
        type='ResNetV1c', depth=101, out_indices=(3, ),
        norm_cfg=norm_cfg, norm_eval=True, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')),
    decode_head=dict(
        type='LogitSumASPPHead', in_channels=2048, in_index=-1, branch='conv', dilations=(6, 12, 18, 24),
        dilations_output_stride=8, num_classes=21, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
