# DeepLabv3+ Xception-65 on Cityscapes fine (paper, arXiv:1802.02611 section 4.4; TensorFlow DeepLab's recipe):
# output stride 16, batch 8, lr 0.01 with poly decay, 90k iterations, random scale 0.5-2.0 and flip. The paper
# crops 769x769; this config takes 512x1024 crops as the other Cityscapes configs (set crop_size and the
# RandomCrop to (768, 768) for the paper's). Evaluation on the whole 1024x2048 image.
_base_ = [
    '../_base_/models/deeplabv3plus_xception65-os16.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=19))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))  # x 4 GPUs = 8
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=4e-5))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=90000, by_epoch=False)]
train_cfg = dict(max_iters=90000, val_interval=9000)
default_hooks = dict(checkpoint=dict(interval=9000))
