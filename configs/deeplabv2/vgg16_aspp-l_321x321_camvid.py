# DeepLab-ASPP-L (VGG-16, output stride 8, rates 6/12/18/24, summed branch logits) on CamVid, 11 classes with the
# median-frequency class weights, with the VOC recipe: 321x321 crops, batch 10, lr 0.001 (x10 on the fc8
# classifiers), poly decay, 20k iterations. Needs torchvision's vgg16-397923af.pth (see
# ../_base_/models/deeplabv1_vgg16-largefov.py).
_base_ = [
    '../_base_/models/deeplabv2_vgg16-aspp-l.py', '../_base_/datasets/camvid_321x321.py',
    '../_base_/default_runtime.py', '../_base_/schedules/deeplab_v1v2_poly_20k.py'
]
crop_size = (321, 321)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=11,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0, class_weight={{_base_.camvid_class_weight}})))
