# DeepLabv3+ R50-D8 on VOC 2012 + SBD aug, 512x512 crops, 40k iterations, 4 GPUs x 4 images (MMSegmentation
# form: deeplabv3plus_r50-d8_4xb4-40k_voc12aug-512x512; its checkpoints load with load_from / tools/test.py).
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/pascal_voc12_aug.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=21),
    auxiliary_head=dict(num_classes=21))
