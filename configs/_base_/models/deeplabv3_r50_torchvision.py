# DeepLabv3 as torchvision builds it (torchvision.models.segmentation.deeplabv3_resnet50, aux_loss=True):
# ResNet-50 with the 7x7 stem (ResNetV1b) at output stride 8 (replace_stride_with_dilation=[False, True, True]:
# the first block of layer3 / layer4 keeps rate 1 / 2), ASPP of 256 channels at rates (1, 12, 24, 36) with image
# pooling and a 1x1 projection, dropout 0.5, a 3x3 conv + BN + ReLU, the classifier (ASPPConvHead); FCN auxiliary
# head on layer3 (1024 -> 256 channels, dropout 0.1). torchvision's checkpoints load after
# tools/model_converters/torchvision2segkit.py with identical logits.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=8,  # strides (1, 2, 1, 1), dilations (1, 1, 2, 4); contract_dilation: first blocks at 1 and 2
    backbone=dict(
        type='ResNetV1b', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), contract_dilation=True,
        norm_cfg=norm_cfg, norm_eval=False,
        # torchvision's DeepLabv3 starts from the ImageNet IMAGENET1K_V1 weights (resnet50-0676ba61.pth)
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50.imagenet1k_v1')),
    decode_head=dict(
        type='ASPPConvHead', in_channels=2048, in_index=3, channels=256, dilations=(1, 12, 24, 36),
        dilations_output_stride=8, project_kernel_size=1, project_dropout=0.5, dropout_ratio=0.0, num_classes=21,
        norm_cfg=norm_cfg, align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1, kernel_size=3, concat_input=False,
        dropout_ratio=0.1, num_classes=21, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.5)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
