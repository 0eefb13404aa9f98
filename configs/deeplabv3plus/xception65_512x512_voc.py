# DeepLabv3+ Xception-65 on VOC 2012 + SBD aug as trained in the paper (arXiv:1802.02611 section 4, with the
# protocol of DeepLabv3 section 4.1): output stride 16, random scale 0.5-2.0, flip, batch 16, lr 0.007 with poly
# decay, 30k iterations, BN trained. The paper's 513x513 crop pairs with TensorFlow's align_corners=True resizes;
# with segkit's align_corners=False the matching crop is 512 (a multiple of the output stride).
_base_ = [
    '../_base_/models/deeplabv3plus_xception65-os16.py', '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=21))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,  # x 4 GPUs = the paper's 16
    dataset=dict(pipeline=train_pipeline))
# weight decay 4e-5: TensorFlow DeepLab's for Xception
optim_wrapper = dict(optimizer=dict(lr=0.007, weight_decay=4e-5))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=30000, by_epoch=False)]
train_cfg = dict(max_iters=30000, val_interval=3000)
