# DeepLab v1 "DeepLab-LargeFOV" (arXiv:1412.7062): VGG-16 at output stride 8 (3x3 pools, pool4 and pool5 of stride
# 1, conv5 with dilation 2), pool5a (3x3 average pooling), fc6 3x3 with 1024 channels at rate 12, fc7 1x1 1024,
# ReLU and dropout 0.5 after each, fc8 classifier initialised N(0, 0.01). No BN anywhere.
# ImageNet initialisation: torchvision's vgg16-397923af.pth (https://download.pytorch.org/models/vgg16-397923af.pth,
# or ~/.cache/torch/hub/checkpoints/ once torchvision has downloaded it) for conv1-conv5 and, decimated as in the
# paper, for fc6/fc7. Put it in the weights directory ($SEGKIT_WEIGHTS, default checkpoints/; README, "Data and
# weights") or point both keys at it:
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH model.decode_head.fc_checkpoint=PATH
vgg16_imagenet = '{{$SEGKIT_WEIGHTS:checkpoints}}/vgg16-397923af.pth'
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=8,  # VGG16 pool4/pool5 stride 1, conv5 dilation 2; fc6's rate 12 is quoted at 8
    backbone=dict(type='VGG16', out_indices=(4, ),
                  init_cfg=dict(type='Pretrained', checkpoint=vgg16_imagenet)),
    decode_head=dict(
        type='LargeFOVHead', in_channels=512, in_index=-1, channels=1024, dilation=12, dilations_output_stride=8,
        avg_pool=True, fc_checkpoint=vgg16_imagenet, dropout_ratio=0.5, num_classes=21,
        align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
