# DeepLab v2 ASPP-L with ResNet-101 on VOC 2012 + SBD aug, the released model's recipe: output stride 8, one 3x3
# atrous conv per rate (6, 12, 18, 24) straight to the classes and summed, frozen BN, 321x321 crops, batch 10
# (the release: 1 image x 10 accumulated iterations), lr 2.5e-4 (x10 on the classifier convs) with poly decay,
# momentum 0.9, weight decay 5e-4, 20k iterations. Not reproduced: multi-scale inputs (MSC) and MS-COCO pre-training.
_base_ = [
    '../_base_/models/deeplabv2_r101-aspp-l.py', '../_base_/datasets/pascal_voc12_aug_321x321.py',
    '../_base_/default_runtime.py', '../_base_/schedules/deeplab_v1v2_poly_20k.py'
]
crop_size = (321, 321)
model = dict(data_preprocessor=dict(size=crop_size))
optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
