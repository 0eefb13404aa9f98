# DeepLabv3 on MobileNetV2, MMSegmentation form (loads MMSeg mobilenet-v2-d8_deeplabv3 checkpoints, keys renamed on
# load): MMSeg's MobileNetV2 at output stride 8 (model.output_stride=8 gives its strides (1, 2, 2, 1, 1, 1, 1) and
# dilations (1, 1, 1, 2, 2, 4, 4)) with the dilation on the first block of each stage only
# (dilate_first_block_only), ASPP head of deeplabv3_r50-d8 (512 channels, rates (1, 6, 12, 18) quoted at 16 =
# (1, 12, 24, 36), 3x3 projection), FCN auxiliary head on the 96-channel stage. MMSeg initialised the backbone from
# mmcls://mobilenet_v2; segkit uses torchvision's ImageNet file (the same network; its keys are converted).
_base_ = './deeplabv3_r50-d8.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True, type='MobileNetV2', widen_factor=1.0, dilate_first_block_only=True, out_indices=(1, 2, 4, 6),
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='{{$SEGKIT_WEIGHTS:checkpoints}}/mobilenet_v2-b0353104.pth')),
    decode_head=dict(in_channels=320),
    auxiliary_head=dict(in_channels=96))
