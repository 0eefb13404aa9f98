# DeepLabv3+ MobileNetV2 (ImageNet init from torchvision's file) on CamVid, 11 classes, void ignored.
# Paper form: model.output_stride=16 (tools/test.py --output-stride 8 evaluates the same checkpoint at 8), head of
# 256 channels, separable ASPP at rates 1/6/12/18 (at 16), 1x1 projection, decoder on the stride-4 stage.
# Cross-entropy with median-frequency class weights (SegNet's CamVid recipe; computed with
# tools/analysis_tools/class_weights.py) so the thin classes (pole, sign, pedestrian, bicyclist) are learned.
# RandomResize of (480, 360) by 0.5-2.0, 256x256 crops, batch 8, SGD 0.01 with poly decay, bf16 autocast.
_base_ = [
    '../_base_/models/deeplabv3plus_mobilenetv2-os16.py', '../_base_/datasets/camvid.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_20k.py'
]
crop_size = (256, 256)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=11,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0,
                         class_weight=[0.279, 0.202, 4.787, 0.149, 1.000, 0.422, 3.847, 1.974, 0.789, 6.375, 8.859])))
max_iters = 2000
# bfloat16 autocast: 2.5x faster training steps on an AVX-512-BF16 CPU (1551 -> 610 ms for batch 8 at 256 px,
# tools/analysis_tools/benchmark.py --train --bf16); on GPUs train with tools/train.py --amp (float16) instead.
optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16', device_type='cpu',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-5))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=500, max_keep_ckpts=2, save_best='mIoU'),
    visualization=dict(draw=True, interval=1, out_dir='overlays', max_images=8),
)
