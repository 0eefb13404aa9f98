# torchvision's deeplabv3_mobilenet_v3_large (aux_loss=True): MobileNetV3-Large at output stride 16 (the last three
# blocks at rate 2, torchvision's dilated=True), the ASPPConvHead on the 960-channel last conv (layer 16) and the
# FCN auxiliary head on layer 4 (the first stride-8 block, 40 -> 10 channels), as torchvision picks them. Its
# checkpoint deeplabv3_mobilenet_v3_large-fc3c493d.pth converts with tools/model_converters/torchvision2segkit.py.
# Training as deeplabv3_r50_torchvision.py with torchvision's weight decay of 1e-6 for this model.
_base_ = './deeplabv3_r50_torchvision.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    output_stride=16,
    backbone=dict(
        _delete_=True, type='MobileNetV3', out_indices=(4, 16),
        norm_cfg=dict(type='SyncBN', eps=1e-3, momentum=0.01, requires_grad=True),
        # torchvision's ImageNet mobilenet_v3_large (IMAGENET1K_V1); a local copy of the file works too
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://mobilenet_v3_large.imagenet1k_v1')),
    decode_head=dict(in_channels=960, in_index=1, dilations_output_stride=16),  # rates (12, 24, 36) at 16
    auxiliary_head=dict(in_channels=40, in_index=0, channels=10))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-6))
