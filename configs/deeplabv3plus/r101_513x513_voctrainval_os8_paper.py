# Stage 2 of the papers' VOC recipe for DeepLabv3+ (DeepLabv3 section 4.1, "Batch normalization"): from stage 1
# (r101_513x513_voc_paper.py), 30k iterations on VOC 2012 trainval at output stride 8, every BN frozen (FrozenBN,
# backbone, ASPP and decoder), lr 0.001. trainval includes val: report this stage on the test server
# (tools/test.py --out writes VOC's PNG format).
# Output stride 8 is model.output_stride=8: the backbone's strides/dilations follow and the ASPP rates, quoted at 16,
# double to (1, 12, 24, 36).
_base_ = './r101_513x513_voc_paper.py'
frozen_bn = dict(type='FrozenBN')
model = dict(
    output_stride=8,
    backbone=dict(norm_cfg=frozen_bn),
    decode_head=dict(norm_cfg=frozen_bn))
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/trainval.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.001))
load_from = 'work_dirs/r101_513x513_voc_paper/iter_30000.pth'  # stage 1's last checkpoint
