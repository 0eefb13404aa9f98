# DeepLabv3+ R101 trained as in the papers (arXiv:1802.02611 section 4, following DeepLabv3's protocol): stage 1
# of the VOC recipe, trainaug (10582 images) at output stride 16 with BN updated, 513x513 crops, scale 0.5-2.0,
# batch 16 (4 GPUs x 4), lr 0.007 with poly decay, 30k iterations. Stage 2: r101_513x513_voctrainval_os8_paper.py.
_base_ = [
    '../_base_/models/deeplabv3plus_r50-os16_paper.py', '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (513, 513)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')),
    decode_head=dict(num_classes=21))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))  # x 4 GPUs = the paper's 16
optim_wrapper = dict(optimizer=dict(lr=0.007))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=30000, by_epoch=False)]
train_cfg = dict(max_iters=30000, val_interval=3000)
