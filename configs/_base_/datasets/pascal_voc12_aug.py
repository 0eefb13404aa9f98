# VOC 2012 train + SBD augmentation ("trainaug", 10582 images), the training set of every DeepLab paper, made from
# the official downloads by tools/dataset_converters/voc_aug.py: label PNGs in VOC2012/SegmentationClassAug (SBD's,
# VOC's own where VOC has one) and the list ImageSets/Segmentation/aug.txt (SBD train+val + VOC train - VOC val).
# Validation stays VOC 2012 val.
_base_ = './pascal_voc12.py'
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
                 ann_file='ImageSets/Segmentation/aug.txt'))
