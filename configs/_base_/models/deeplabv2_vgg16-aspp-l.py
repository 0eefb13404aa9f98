# DeepLab v2 "DeepLab-ASPP-L" with VGG-16 (arXiv:1606.00915, Sec. 3.3 and Fig. 4): the DeepLab VGG-16 of output
# stride 8 and four branches at rates (6, 12, 18, 24), each fc6 3x3 (1024 channels) -> fc7 1x1 (1024) -> fc8
# classifier with ReLU and dropout 0.5 after fc6 and fc7; the four branches' logits are summed. ASPP-S: set
# dilations=(2, 4, 8, 12). No BN. conv1-conv5 from torchvision's ImageNet vgg16-397923af.pth (see
# deeplabv1_vgg16-largefov.py for where to get it); fc6/fc7 of the branches start random (the released prototxt
# names them fc6_1..fc6_4, so they do not take the ImageNet fc6); decode_head.fc_checkpoint=PATH would give every
# branch LargeFOV's decimated ImageNet fc6/fc7 instead.
_base_ = './deeplabv1_vgg16-largefov.py'
model = dict(
    decode_head=dict(
        _delete_=True, type='LogitSumASPPHead', in_channels=512, in_index=-1, branch='fc', channels=1024,
        dilations=(6, 12, 18, 24), dilations_output_stride=8, dropout_ratio=0.5, num_classes=21,
        align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))
