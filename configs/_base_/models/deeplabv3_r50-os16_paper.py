# DeepLabv3 as in the paper (arXiv:1706.05587, section 4): output stride 16 for training, multi-grid unit rates
# (1, 2, 4) in block4 (rates 2 * (1, 2, 4)), ASPP of 256 channels with rates (1, 6, 12, 18), image pooling and a 1x1
# projection; no auxiliary head. Paper form. The paper evaluates at output stride 8: tools/test.py --output-stride 8
# (or --cfg-options model.output_stride=8) doubles the backbone's dilations and the ASPP rates, weights unchanged.
_base_ = './deeplabv3_r50-d8.py'
model = dict(
    output_stride=16,
    backbone=dict(multi_grid=(1, 2, 4), contract_dilation=False),
    decode_head=dict(channels=256, dilations=(1, 6, 12, 18), project_kernel_size=1),
    auxiliary_head=None)
