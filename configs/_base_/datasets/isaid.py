# iSAID (15 object classes + background), cut by tools/dataset_converters/isaid.py from DOTA-v1.0's images and
# iSAID's semantic masks into 896x896 patches overlapping by 384: data/iSAID/{img_dir,ann_dir}/{train,val}/*.png
# (33978 train / 11644 val patches; img_dir/test holds whole images without labels).
# MMSegmentation's isaid.py (crop size of PointFlow, Li et al. CVPR 2021): RandomResize of (896, 896), 896 crops.
_base_ = './ms_flip_tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'iSAIDDataset'
data_root = 'data/iSAID'
crop_size = (896, 896)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(896, 896), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 896), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
auto_scale_lr = dict(enable=False, base_batch_size=16)  # written for 4 GPUs x 4 images; tools/train.py --auto-scale-lr
