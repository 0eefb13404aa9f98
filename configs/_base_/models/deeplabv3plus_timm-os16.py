# DeepLabv3+ on any timm encoder (TimmBackbone: timm's features_only network), paper form (arXiv:1802.02611, Sec.
# 3-4): output stride 16 (model.output_stride: timm dilates the last stage; tools/test.py --output-stride 8 the last
# two), ASPP of 256 channels with atrous separable convs at rates (1, 6, 12, 18) and a 1x1 projection, decoder on
# the stride-4 feature reduced to 48 channels with two separable 3x3 convs; no auxiliary head.
# The head's in_channels / in_index and the decoder's stride-4 feature (low_level_index, low_level_in_channels) are
# not set here: the segmentor takes them from the backbone's feature_info, so a config on top names the timm model
# only (backbone.model_name) and where its ImageNet weights are.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=16,
    backbone=dict(type='TimmBackbone'),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead', channels=256, dilations=(1, 6, 12, 18), project_kernel_size=1,
        low_level_channels=48, separable_decoder=True, dropout_ratio=0.1, num_classes=21, norm_cfg=norm_cfg,
        align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=None,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
