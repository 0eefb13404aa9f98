# DeepLabv3 as in the paper (arXiv:1706.05587, section 4): output stride 16 for training, multi-grid (1, 2, 4)
# in block4, ASPP of 256 channels with rates (1, 6, 12, 18), image pooling and a 1x1 projection; no auxiliary
# head. For output stride 8 evaluation double the rates and set strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4).
_base_ = './deeplabv3_r50-d8.py'
model = dict(
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), multi_grid=(1, 2, 4), contract_dilation=False),
    decode_head=dict(channels=256, dilations=(1, 6, 12, 18), project_kernel_size=1),
    auxiliary_head=None)
