# torchvision's deeplabv3_resnet50 (21 classes: the VOC categories; its released weights were trained on the COCO
# images that hold them) on VOC 2012 + SBD aug. Evaluate torchvision's checkpoint with
#   python tools/model_converters/torchvision2segkit.py deeplabv3_resnet50_coco-cd0a2569.pth r50_tv.pth
#   python tools/test.py configs/torchvision/deeplabv3_r50_torchvision.py r50_tv.pth
# Evaluation resizes the shorter side to 520 (torchvision's SemanticSegmentation preset). Training follows
# torchvision's reference recipe (references/segmentation): crops of 480 after resizing the shorter side to 260-1040,
# flip, batch 32, SGD lr 0.02 (10x on the auxiliary head), momentum 0.9, weight decay 1e-4, poly decay, aux loss 0.5.
_base_ = [
    '../_base_/models/deeplabv3_r50_torchvision.py', '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (480, 480)
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2080, 520), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2080, 520), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,  # x 4 GPUs = torchvision's 32
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=1e-4),
                     paramwise_cfg=dict(custom_keys={'auxiliary_heads': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
