# DeepLabv3+ R50-D8 on ADE20K, 512x512 crops, 80k iterations, 4 GPUs x 4 images (MMSegmentation form:
# deeplabv3plus_r50-d8_4xb4-80k_ade20k-512x512; its checkpoints load with load_from / tools/test.py).
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
