# DeepLabv3's cascaded model without ASPP, R50 (paper form; arXiv:1706.05587 section 3.2, Tables 1-2):
# r101_cascade-block7_513x513_voc_paper.py with ResNet-50.
_base_ = './r101_cascade-block7_513x513_voc_paper.py'
model = dict(backbone=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')))
