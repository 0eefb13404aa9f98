# DeepLabv3 R101 as trained in the paper (paper form; arXiv:1706.05587 section 4.1): output stride 16 (evaluate at
# 8 with tools/test.py --output-stride 8, as the paper does), multi-grid (1, 2, 4),
# ASPP 256 channels at rates (1, 6, 12, 18) with a 1x1 projection, 513x513 crops, scale 0.5-2.0, batch 16,
# lr 0.007 with poly decay, 30k iterations, no auxiliary head. Stage 1 of the paper's VOC recipe; stage 2 (OS8,
# frozen BN, trainval) is r101_513x513_voctrainval_os8_paper.py.
_base_ = [
    '../_base_/models/deeplabv3_r50-os16_paper.py', '../_base_/datasets/pascal_voc12_aug.py',
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
train_dataloader = dict(
    batch_size=4,  # x 4 GPUs = the paper's 16
    dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.007))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=30000, by_epoch=False)]
train_cfg = dict(max_iters=30000, val_interval=3000)
