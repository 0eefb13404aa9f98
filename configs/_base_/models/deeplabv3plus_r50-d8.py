# DeepLabv3+, MMSegmentation form (loads MMSeg deeplabv3plus_r50-d8 checkpoints): ResNetV1c-50 at output stride 8
# (model.output_stride, inherited), ASPP with atrous separable convs (512 channels, rates (1, 6, 12, 18) quoted at
# output stride 16 = MMSeg's (1, 12, 24, 36) at 8, 3x3 projection), decoder with the stride-4 features reduced to 48
# channels and two separable 3x3 convs; FCN auxiliary head (weight 0.4).
# The paper's form (256 channels, 1x1 projection, output stride 16) is models/deeplabv3plus_r50-os16_paper.py.
_base_ = './deeplabv3_r50-d8.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True, type='DepthwiseSeparableASPPHead', in_channels=2048, in_index=3, channels=512,
        dilations=(1, 6, 12, 18), dilations_output_stride=16, project_kernel_size=3, low_level_in_channels=256,
        low_level_channels=48, dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))
