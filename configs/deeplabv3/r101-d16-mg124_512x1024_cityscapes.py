# DeepLabv3 R101-D16 with multi-grid on Cityscapes fine, MMSegmentation form (deeplabv3_r101-d16-mg124_4xb2-80k_
# cityscapes-512x1024; its checkpoints load with load_from / tools/test.py and give MMSeg's logits): output stride
# 16, block4 dilations (1, 2, 4) as MMSeg's multi_grid means them (the dilations themselves:
# multi_grid_mode='absolute'; the paper's unit rates would give 2 * (1, 2, 4)), ASPP rates (1, 6, 12, 18).
# MMSeg trained it with an OHEM pixel sampler (min_kept=100000), which segkit does not have: training from this
# config uses plain cross-entropy.
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    output_stride=16,
    backbone=dict(depth=101, multi_grid=(1, 2, 4), multi_grid_mode='absolute',
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')))
