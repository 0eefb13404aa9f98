# DeepLabv3's cascaded model without ASPP, R101 on VOC 2012 + SBD aug ("going deeper with atrous convolution",
# arXiv:1706.05587 section 3.2, Fig. 3b, Tables 2-3), paper form: ResNetV1c-101 at output stride 16, then copies of
# block4 as block5, block6 and block7 (the CascadedBlocks neck), each doubling the atrous rate (block4 2, block5 4,
# block6 8, block7 16) so the output stride stays 16, multi-grid unit rates (1, 2, 1) in block4 and in every added
# block (the setting the paper keeps for its cascaded model, section 4.2), and the classifier (dropout, 1x1 conv) on
# block7. model.neck.num_blocks sets the depth (0: block4 only, ..., 3: block7); tools/test.py --output-stride 8
# evaluates at 8 (every rate doubles). Training recipe of r101_513x513_voc_paper.py (513 crops, batch 16, 30k).
_base_ = './r101_513x513_voc_paper.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(multi_grid=(1, 2, 1)),
    neck=dict(type='CascadedBlocks', in_channels=2048, num_blocks=3, num_units=3, multi_grid=(1, 2, 1),
              norm_cfg=norm_cfg),
    decode_head=dict(
        _delete_=True, type='FCNHead', in_channels=2048, in_index=-1, channels=2048, num_convs=0,
        concat_input=False, dropout_ratio=0.1, num_classes=21, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))
