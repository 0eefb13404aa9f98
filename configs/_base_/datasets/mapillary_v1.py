# Mapillary Vistas v1.2 (MMSegmentation's 66 classes: the benchmark's 65 + 'Unlabeled'; 18000 train / 2000 val
# images). The official download needs no conversion: extracted to data/mapillary it holds
# {training,validation}/images/*.jpg and {training,validation}/v1.2/labels/*.png (palette PNGs of label indices).
# MMSegmentation's mapillary_v1.py: RandomResize of (2048, 1024), 512x1024 crops.
_base_ = './ms_flip_tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'MapillaryDataset_v1'
data_root = 'data/mapillary/'
crop_size = (512, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='training/images', seg_map_path='training/v1.2/labels'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='validation/images', seg_map_path='validation/v1.2/labels'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
auto_scale_lr = dict(enable=False, base_batch_size=8)  # written for 4 GPUs x 2 images; tools/train.py --auto-scale-lr
