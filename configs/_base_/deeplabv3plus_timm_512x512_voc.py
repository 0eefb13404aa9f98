# What every configs/timm/ config shares: DeepLabv3+ on a timm encoder (./models/deeplabv3plus_timm-os16.py) trained
# on VOC 2012 + SBD aug as the MMSegmentation DeepLabv3+ configs are: 512x512 crops, 4 GPUs x 4 images, SGD 0.01
# with poly decay, 40k iterations. A config on top sets model.backbone.model_name and its ImageNet file.
_base_ = ['./models/deeplabv3plus_timm-os16.py', './datasets/pascal_voc12_aug.py', './default_runtime.py',
          './schedules/schedule_40k.py']
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=21))
