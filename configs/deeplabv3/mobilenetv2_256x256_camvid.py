# DeepLabv3 head on the CamVid family comparison's MobileNetV2 (output stride 16; data, schedule and loss:
# ../_base_/camvid_mobilenetv2-os16_256x256.py, the same as the v1, v2 and v3+ configs). Paper form
# (arXiv:1706.05587, Sec. 3.3): ASPP of 256 channels with BN, a 1x1 branch and 3x3 branches at rates 6, 12, 18,
# image-level pooling, 1x1 projection, then the classifier; no decoder.
_base_ = '../_base_/camvid_mobilenetv2-os16_256x256.py'
model = dict(
    decode_head=dict(
        type='ASPPHead', channels=256, dilations=(1, 6, 12, 18), image_pooling=True, project_kernel_size=1,
        dropout_ratio=0.1, norm_cfg={{_base_.norm_cfg}}))
