# VOC 2012 + SBD ("trainaug") as DeepLab v1/v2 train on it: images rescaled by a random factor in [0.5, 1.5]
# (DeepLab v2, Sec. 4.1), 321x321 crops, flips, batch 10; evaluation on whole val images at their own size.
_base_ = './pascal_voc12_aug.py'
crop_size = (321, 321)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 1.5), keep_ratio=True),  # VOC's long side: 500
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=10, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
