# DeepLab-LargeFOV (DeepLab v1, arXiv:1412.7062) on VOC 2012 + SBD aug: VGG-16 at output stride 8, fc6 rate 12,
# ImageNet conv1-conv5 and decimated fc6/fc7 (see ../_base_/models/deeplabv1_vgg16-largefov.py for the file),
# 321x321 crops, batch 10, lr 0.001 (x10 on fc8) with poly decay, momentum 0.9, weight decay 5e-4, 20k iterations.
# The paper's fully connected CRF runs at test time through the model's test_cfg / tools/test.py --crf.
_base_ = [
    '../_base_/models/deeplabv1_vgg16-largefov.py', '../_base_/datasets/pascal_voc12_aug_321x321.py',
    '../_base_/default_runtime.py', '../_base_/schedules/deeplab_v1v2_poly_20k.py'
]
crop_size = (321, 321)
model = dict(data_preprocessor=dict(size=crop_size))
