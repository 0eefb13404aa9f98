# DeepLab v2 ASPP-L head on the CamVid family comparison's MobileNetV2 (output stride 16; data, schedule and loss:
# ../_base_/camvid_mobilenetv2-os16_256x256.py, the same as the v1, v3 and v3+ configs). The paper's VGG-16 form:
# four branches fc6 3x3 (1024 channels) -> fc7 1x1 (1024) -> fc8 classifier, ReLU and dropout 0.5 after fc6 and
# fc7, at rates (6, 12, 18, 24) for output stride 8, i.e. (3, 6, 9, 12) here; the branch logits are summed.
_base_ = '../_base_/camvid_mobilenetv2-os16_256x256.py'
model = dict(
    decode_head=dict(
        type='LogitSumASPPHead', branch='fc', channels=1024, dilations=(6, 12, 18, 24), dilations_output_stride=8,
        dropout_ratio=0.5))
