# DeepLabv3+ with the modified aligned Xception-65 as in the paper (arXiv:1802.02611, sections 3.2 and 4.3):
# output stride 16, ASPP of 256 channels with atrous separable convs at rates (1, 6, 12, 18), image pooling and a
# 1x1 projection; decoder on the stride-4 features (256 channels reduced to 48) with two separable 3x3 convs.
# No auxiliary head. The ImageNet weights are TensorFlow's (timm's xception65.tf_in1k): they expect inputs scaled
# to [-1, 1] (mean = std = 127.5, RGB) and BN with eps 1e-3.
#
# ImageNet file: timm's weights load directly (keys converted on the fly), read from the weights directory
# ($SEGKIT_WEIGHTS, default checkpoints/; README, "Data and weights"). Fetch them once where there is network
# access, e.g. (with the default directory)
#   huggingface-cli download timm/xception65.tf_in1k model.safetensors --local-dir checkpoints/xception65.tf_in1k
# (https://huggingface.co/timm/xception65.tf_in1k; pytorch_model.bin there works too), or with timm installed:
#   python -c "import timm, torch; torch.save(timm.create_model('xception65.tf_in1k', pretrained=True)
#              .state_dict(), 'checkpoints/xception65.tf_in1k/xception65.pth')"
# and point init_cfg.checkpoint at the .pth file (or set model.backbone.init_cfg=None to train from scratch).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor', mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], bgr_to_rgb=True,
    pad_val=0, seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    output_stride=16,  # the exit flow's last block at rate 2; --output-stride 8 also dilates middle and exit flows
    backbone=dict(
        type='Xception', depth=65, out_indices=(1, 2, 3, 4),
        norm_cfg=dict(type='SyncBN', eps=1e-3, requires_grad=True), norm_eval=False,
        init_cfg=dict(type='Pretrained',
                      checkpoint='{{$SEGKIT_WEIGHTS:checkpoints}}/xception65.tf_in1k/model.safetensors')),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead', in_channels=2048, in_index=3, channels=256, dilations=(1, 6, 12, 18),
        project_kernel_size=1, low_level_in_channels=256, low_level_channels=48, low_level_index=0,
        separable_decoder=True, dropout_ratio=0.1, num_classes=19, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    auxiliary_head=None,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
