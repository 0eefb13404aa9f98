# Stage 2 of DeepLabv3's VOC recipe (arXiv:1706.05587 section 4.1, "Batch normalization"): from the stage-1 model
# (r101_513x513_voc_paper.py: trainaug, output stride 16, BN updated, lr 0.007), train 30k more iterations on VOC
# 2012 trainval at output stride 8 with every BN frozen (FrozenBN: running statistics and affine fixed, right for
# small per-device batches) and lr 0.001. trainval includes val, so the val score here only checks the run; the
# paper reports this stage on the test server (tools/test.py --out writes VOC's PNG format).
# Output stride 8 is model.output_stride=8: the backbone's strides/dilations follow and the ASPP rates, quoted at 16,
# double to (1, 12, 24, 36).
_base_ = './r101_513x513_voc_paper.py'
frozen_bn = dict(type='FrozenBN')
model = dict(
    output_stride=8,
    backbone=dict(norm_cfg=frozen_bn),  # multi-grid: 4 x (1, 2, 4)
    decode_head=dict(norm_cfg=frozen_bn))
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/trainval.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.001))
load_from = 'work_dirs/r101_513x513_voc_paper/iter_30000.pth'  # stage 1's last checkpoint
