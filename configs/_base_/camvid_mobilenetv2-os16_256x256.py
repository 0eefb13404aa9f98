# The CamVid family comparison: every DeepLab head on the same ImageNet-initialised MobileNetV2 at output stride 16
# with the same data, crops, batch, schedule, loss and bf16 autocast. A config on top adds only its decode head
# (type and head arguments); in_channels=320 and in_index=3 (the stride-16 stage) are set here.
# Cross-entropy with median-frequency class weights so the thin classes (pole, sign, pedestrian, bicyclist) are
# learned. RandomResize of (480, 360) by 0.5-2.0, 256x256 crops, batch 8, SGD 0.01 with poly decay, 2000 iterations.
_base_ = ['./models/mobilenetv2-os16.py', './datasets/camvid.py', './default_runtime.py',
          './schedules/schedule_20k.py']
crop_size = (256, 256)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        in_channels=320, in_index=3, num_classes=11, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0, class_weight={{_base_.camvid_class_weight}})))
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
