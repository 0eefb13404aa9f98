# DeepLabv3+ MobileNetV2 (ImageNet init from torchvision's file) on CamVid, 11 classes, void ignored: output stride
# 16 (model.output_stride; tools/test.py --output-stride 8 evaluates the same checkpoint at 8), paper-form head (256 channels, separable ASPP at rates 1/6/12/18, 1x1 projection, decoder on the stride-4
# stage, 24 channels reduced to 48). Data, schedule and loss: ../_base_/camvid_mobilenetv2-os16_256x256.py, shared
# with the v1, v2 and v3 heads of the family comparison.
_base_ = '../_base_/camvid_mobilenetv2-os16_256x256.py'
model = dict(
    decode_head=dict(
        type='DepthwiseSeparableASPPHead', channels=256, dilations=(1, 6, 12, 18), project_kernel_size=1,
        low_level_in_channels=24, low_level_channels=48, low_level_index=0, dropout_ratio=0.1,
        norm_cfg={{_base_.norm_cfg}}))
