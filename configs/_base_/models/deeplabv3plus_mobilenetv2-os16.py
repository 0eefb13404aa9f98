# DeepLabv3+ on MobileNetV2 (Sandler et al. 2018 use MobileNetV2 as a DeepLabv3 feature extractor at output
# stride 16), paper-form head: ASPP of 256 channels, separable convs, rates (1, 6, 12, 18), 1x1 projection;
# decoder on the stride-4 stage (24 channels) reduced to 48. ImageNet initialisation from torchvision's file.
# Paper form. model.output_stride=16 gives strides (1, 2, 2, 2, 1, 1, 1) and dilations (1, 1, 1, 1, 1, 2, 2);
# tools/test.py --output-stride 8 evaluates the same weights at 8 (dilations (1, 1, 1, 2, 2, 4, 4), rates x2).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=16,
    backbone=dict(
        type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 6), norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='../shared/weights/mobilenet_v2-b0353104.pth')),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead', in_channels=320, in_index=3, channels=256, dilations=(1, 6, 12, 18),
        project_kernel_size=1, low_level_in_channels=24, low_level_channels=48, low_level_index=0,
        dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
