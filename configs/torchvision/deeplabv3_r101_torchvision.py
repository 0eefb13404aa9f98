# torchvision's deeplabv3_resnet101 (see deeplabv3_r50_torchvision.py); its checkpoint
# deeplabv3_resnet101_coco-586e9e4e.pth converts with tools/model_converters/torchvision2segkit.py.
_base_ = './deeplabv3_r50_torchvision.py'
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101.imagenet1k_v1')))
