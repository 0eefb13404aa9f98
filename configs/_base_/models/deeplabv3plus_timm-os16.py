# DeepLabv3+ on any timm encoder (TimmBackbone: timm's features_only network) in the paper's form
# (./deeplabv3plus_r50-os16_paper.py: output stride 16, where timm dilates the last stage; 256-channel ASPP with
# atrous separable convs at rates (1, 6, 12, 18) and a 1x1 projection; decoder on the stride-4 feature reduced to
# 48 channels; no auxiliary head) with the ResNet replaced.
# The head's inputs are None: the segmentor takes in_channels / in_index and the decoder's stride-4 feature
# (low_level_index, low_level_in_channels) from the backbone's feature_info, so a config on top names the timm model
# only (backbone.model_name) and where its ImageNet weights are.
_base_ = './deeplabv3plus_r50-os16_paper.py'
model = dict(
    backbone=dict(_delete_=True, type='TimmBackbone'),
    decode_head=dict(in_channels=None, in_index=None, low_level_in_channels=None, low_level_index=None))
