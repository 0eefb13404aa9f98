# DeepLabv3, MMSegmentation form (loads MMSeg deeplabv3_r50-d8 checkpoints): ResNetV1c-50 at output stride 8 with
# contract_dilation (the first block of a dilated stage uses half the dilation), ASPP with 512 channels and a 3x3
# projection, FCN auxiliary head on stage 3 (weight 0.4). model.output_stride=8 gives MMSeg's strides (1, 2, 1, 1)
# and dilations (1, 1, 2, 4), and the ASPP rates (1, 6, 12, 18), quoted at output stride 16, become MMSeg's
# (1, 12, 24, 36). --cfg-options model.output_stride=16 switches backbone and rates together.
# The paper's form (256 channels, 1x1 projection, output stride 16) is models/deeplabv3_r50-os16_paper.py.
norm_cfg = dict(type='SyncBN', requires_grad=True)  # plain BN when training is not distributed
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=8,
    backbone=dict(
        type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), contract_dilation=True,
        norm_cfg=norm_cfg, norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    decode_head=dict(
        type='ASPPHead', in_channels=2048, in_index=3, channels=512, dilations=(1, 6, 12, 18),
        dilations_output_stride=16, project_kernel_size=3, dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg,
        align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1, concat_input=False,
        dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
