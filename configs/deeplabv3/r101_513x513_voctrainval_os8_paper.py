# Stage 2 of DeepLabv3's VOC recipe (arXiv:1706.05587 section 4.1, "Batch normalization"): from the stage-1 model
# (r101_513x513_voc_paper.py: trainaug, output stride 16, BN updated, lr 0.007), train 30k more iterations on VOC
# 2012 trainval at output stride 8 with every BN frozen (FrozenBN: running statistics and affine fixed, right for
# small per-device batches) and lr 0.001. trainval includes val, so the val score here only checks the run; the
# paper reports this stage on the test server (tools/test.py --out writes VOC's PNG format).
# Output stride 8 is written out as backbone strides/dilations with the ASPP rates doubled; once EncoderDecoder
# has its model.output_stride knob this is output_stride=8.
_base_ = './r101_513x513_voc_paper.py'
frozen_bn = dict(type='FrozenBN')
model = dict(
    backbone=dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), norm_cfg=frozen_bn),  # multi-grid: 4 x (1, 2, 4)
    decode_head=dict(dilations=(1, 12, 24, 36), norm_cfg=frozen_bn))
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/trainval.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.001))
load_from = 'work_dirs/r101_513x513_voc_paper/iter_30000.pth'  # stage 1's last checkpoint
