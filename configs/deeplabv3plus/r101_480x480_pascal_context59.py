# DeepLabv3+ R101-D8 on PASCAL-Context 59 classes, 480x480 crops, 80k iterations, 4 GPUs x 4 images, lr 0.004
# (MMSegmentation form: deeplabv3plus_r101-d8_4xb4-80k_pascal-context-59-480x480), sliding-window testing.
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/pascal_context_59.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (480, 480)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')),
    decode_head=dict(num_classes=59),
    auxiliary_head=dict(num_classes=59),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(320, 320)))
optim_wrapper = dict(optimizer=dict(lr=0.004, weight_decay=0.0001))
