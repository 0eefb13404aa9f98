# CamVid, 11-class SegNet version (367 train / 101 val, 480x360); void (11) is ignored. Read from data/camvid
# (link it there: ln -s /path/to/camvid data/camvid; docs/data.md): {train,trainannot,val,valannot}/*.png and
# {train,val}.txt.
_base_ = './ms_flip_tta.py'  # tta_pipeline for tools/test.py --tta
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
crop_size = (256, 256)
# Median-frequency class weights of the 11 classes on train (SegNet's CamVid recipe), from
# tools/analysis_tools/class_weights.py; configs pass them to CrossEntropyLoss(class_weight=...).
camvid_class_weight = [0.279, 0.202, 4.787, 0.149, 1.000, 0.422, 3.847, 1.974, 0.789, 6.375, 8.859]
# Inverse square root of the pixel share, scaled so the median class weighs 1 (class_weights.py --method inv_sqrt):
# milder than median frequency, which over-predicts the thin classes; the comparison is in docs/recipes.md, "CamVid
# recipe".
camvid_class_weight_inv_sqrt = [0.516, 0.439, 2.136, 0.376, 1.000, 0.679, 1.956, 1.995, 0.875, 2.649, 3.922]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# No loader workers: with the decoded cache a batch of 8 costs 12 ms of CPU (49 ms decoding PNGs), ~1 % of a 2-core
# training step, so on 2 cores workers only compete with the step's 2 threads. tools/train.py, 20 iterations each
# (docs/speed.md, "Other workloads"): 9.7 s/iter with 0 workers, 14.1 with 1, 15.1 with 2, all under a load average
# of 7 from other jobs (so only the order means much). With spare cores num_workers=2 overlaps the 12 ms instead.
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        ann_file='train.txt', pipeline=train_pipeline,
        # The 367 frames and masks decoded once into shared memory (242 MiB, ~3.5 s at start): each sample then
        # runs only the random transforms, 4.4x faster (docs/speed.md). decoded_cache=None reads the PNGs each time.
        decoded_cache=dict(max_mib=1024)))
val_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=dict(img_path='val', seg_map_path='valannot'),
        ann_file='val.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
auto_scale_lr = dict(enable=False, base_batch_size=8)  # written for 1 device x 8 images; tools/train.py --auto-scale-lr
