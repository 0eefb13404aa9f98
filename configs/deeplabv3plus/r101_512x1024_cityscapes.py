# DeepLabv3+ R101-D8 on Cityscapes fine (MMSegmentation form: deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024),
# 512x1024 crops, 80k iterations, 4 GPUs x 2 images; evaluation on the whole 1024x2048 image.
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')))
