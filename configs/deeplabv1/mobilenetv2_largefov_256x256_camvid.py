# DeepLab v1 LargeFOV head on the CamVid family comparison's MobileNetV2 (output stride 16; data, schedule and
# loss: ../_base_/camvid_mobilenetv2-os16_256x256.py, the same as the v2, v3 and v3+ configs). The paper's head:
# pool5a (3x3 average pooling), fc6 3x3 with 1024 channels at rate 12 for output stride 8, i.e. 6 here, fc7 1x1
# 1024, ReLU and dropout 0.5 after each, fc8 classifier; no BN, fc6/fc7 from a random initialisation.
_base_ = '../_base_/camvid_mobilenetv2-os16_256x256.py'
model = dict(
    decode_head=dict(
        type='LargeFOVHead', channels=1024, dilation=12, dilations_output_stride=8,
        avg_pool=True, dropout_ratio=0.5))
