# The multi-band example of docs/own_data.md: DeepLabv3+ MobileNetV2 (ImageNet init) on a 4-band, 16-bit variant of
# CamVid written by benchmarks/own_data_camvid.py (uint16 TIFF: R, G, B x 257 and a Sobel edge band; the masks are
# CamVid's). The ImageNet weights initialise the 4-band first conv (RGB filters kept, the edge band from their mean,
# all x 3/4); bands are read in file order (LoadMultiBandImage, so bgr_to_rgb is off) and normalised with their own
# statistics from tools/analysis_tools/band_stats.py. Everything else is mobilenetv2_256x256_camvid.py.
_base_ = './mobilenetv2_256x256_camvid.py'
data_root = 'data/camvid4band'
model = dict(
    # tools/analysis_tools/band_stats.py on the training images (R, G, B, edge; file order, so no BGR swap)
    data_preprocessor=dict(mean=[26993.531, 27861.078, 28355.074, 3061.746],
                           std=[20124.061, 20421.432, 20133.56, 5178.222], bgr_to_rgb=False),
    backbone=dict(in_channels=4))
train_pipeline = [
    dict(type='LoadMultiBandImage'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(256, 256), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BandBrightnessContrast'),  # PhotoMetricDistortion's hue and saturation are RGB-only
    dict(type='PackSegInputs'),
]
test_pipeline = [dict(type='LoadMultiBandImage'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
train_dataloader = dict(dataset=dict(data_root=data_root, img_suffix='.tif', pipeline=train_pipeline,
                                     data_prefix=dict(img_path='train4band', seg_map_path='trainannot')))
val_dataloader = dict(dataset=dict(data_root=data_root, img_suffix='.tif', pipeline=test_pipeline,
                                   data_prefix=dict(img_path='val4band', seg_map_path='valannot')))
test_dataloader = val_dataloader
