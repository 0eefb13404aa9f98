# MobileNetV2 (Sandler et al. 2018) at output stride 16, ImageNet-initialised from torchvision's file: the backbone
# of the CamVid family comparison. No decode head: a config on top adds one (it reads stage 7, in_index=3, 320
# channels; stage 2, in_index=0, 24 channels at output stride 4, is there for the DeepLabv3+ decoder).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=16,  # strides (1, 2, 2, 2, 1, 1, 1), dilations (1, 1, 1, 1, 1, 2, 2); the head's rates follow
    backbone=dict(
        type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 6), norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='{{$SEGKIT_WEIGHTS:checkpoints}}/mobilenet_v2-b0353104.pth')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
