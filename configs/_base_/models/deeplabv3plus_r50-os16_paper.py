# DeepLabv3+ as in the paper (arXiv:1802.02611, sections 3-4): output stride 16, ASPP of 256 channels with
# atrous separable convs at rates (1, 6, 12, 18) and a 1x1 projection, decoder with 48 low-level channels and
# two 3x3 separable convs of 256 channels; no auxiliary head. Paper form; evaluate at output stride 8 with
# tools/test.py --output-stride 8.
_base_ = './deeplabv3plus_r50-d8.py'
model = dict(
    output_stride=16,
    backbone=dict(contract_dilation=False),
    decode_head=dict(channels=256, dilations=(1, 6, 12, 18), project_kernel_size=1),
    auxiliary_head=None)
