# DeepLab-ASPP-L with VGG-16 (DeepLab v2, arXiv:1606.00915) on VOC 2012 + SBD aug: output stride 8, four branches
# at rates (6, 12, 18, 24) whose logits are summed, 321x321 crops, batch 10, lr 0.001 (x10 on the fc8 classifiers)
# with poly decay, momentum 0.9, weight decay 5e-4, 20k iterations. ASPP-S: --cfg-options
# model.decode_head.dilations="(2,4,8,12)".
_base_ = [
    '../_base_/models/deeplabv2_vgg16-aspp-l.py', '../_base_/datasets/pascal_voc12_aug_321x321.py',
    '../_base_/default_runtime.py', '../_base_/schedules/deeplab_v1v2_poly_20k.py'
]
crop_size = (321, 321)
model = dict(data_preprocessor=dict(size=crop_size))
