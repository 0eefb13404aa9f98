# DeepLabv3+ R101-D8 on VOC 2012 + SBD aug (MMSegmentation form), 512x512 crops, 40k iterations, 4 x 4 images.
_base_ = './r50_512x512_voc.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')))
