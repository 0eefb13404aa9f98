# DeepLabv3+ on MobileNetV2, MMSegmentation form (loads MMSeg mobilenet-v2-d8_deeplabv3plus checkpoints): the
# backbone of deeplabv3_mobilenetv2-d8.py (output stride 8, dilation on the first block of each stage only) with the
# head of deeplabv3plus_r50-d8.py reading the 24-channel stride-4 stage for its decoder.
_base_ = './deeplabv3plus_r50-d8.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True, type='MobileNetV2', widen_factor=1.0, dilate_first_block_only=True, out_indices=(1, 2, 4, 6),
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='{{$SEGKIT_WEIGHTS:checkpoints}}/mobilenet_v2-b0353104.pth')),
    decode_head=dict(in_channels=320, low_level_in_channels=24),
    auxiliary_head=dict(in_channels=96))
