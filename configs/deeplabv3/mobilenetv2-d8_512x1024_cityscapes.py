# DeepLabv3 MobileNetV2-D8 on Cityscapes fine, MMSegmentation form (mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-
# 512x1024; its checkpoints load with load_from / tools/test.py and give MMSeg's logits): output stride 8,
# 512x1024 crops, 80k iterations, 4 GPUs x 2 images; evaluation on the whole 1024x2048 image.
_base_ = [
    '../_base_/models/deeplabv3_mobilenetv2-d8.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
