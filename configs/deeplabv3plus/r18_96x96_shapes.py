# The README's demo: DeepLabv3+ on segkit's built-in Shapes data (generated into data/shapes on first use),
# trained from scratch on 2 CPU cores in about 6 minutes (3000 iterations of batch 8, AdamW, poly decay).
# ResNetV1c-18 at half width, output stride 16, paper-form head (ASPP with atrous separable convs and a 1x1
# projection, decoder with the stride-4 features). Paper form (model.output_stride=16).
_base_ = ['../_base_/datasets/shapes.py', '../_base_/default_runtime.py', '../_base_/schedules/schedule_20k.py']
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 6
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, size=(96, 96), size_divisor=16),
    output_stride=16,
    backbone=dict(type='ResNetV1c', depth=18, stem_channels=32, base_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(type='DepthwiseSeparableASPPHead', in_channels=256, in_index=3, channels=64,
                     dilations=(1, 6, 12, 18), project_kernel_size=1, low_level_in_channels=32,
                     low_level_channels=24, dropout_ratio=0.1, num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(type='FCNHead', in_channels=128, in_index=2, channels=32, num_convs=1, concat_input=False,
                        dropout_ratio=0.1, num_classes=num_classes, norm_cfg=norm_cfg,
                        loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
    test_cfg=dict(mode='whole'))

max_iters = 3000
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(_delete_=True, type='AdamW', lr=0.002, weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=100, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=1000, max_keep_ckpts=2),
    visualization=dict(draw=True, interval=1, out_dir='overlays', max_images=16),
)
custom_hooks = [dict(type='ProgressBarHook')]
