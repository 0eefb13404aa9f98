# VOC 2012 train + SBD augmentation ("trainaug", 10582 images), the training set of every DeepLab paper.
# Convert SBD's .mat labels to PNGs in VOC2012/SegmentationClassAug and list the extra names in
# ImageSets/Segmentation/aug.txt (see README, "Preparing data"). Validation stays VOC 2012 val.
_base_ = './pascal_voc12.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(type={{_base_.dataset_type}}, data_root={{_base_.data_root}},
                 data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                 ann_file='ImageSets/Segmentation/train.txt', pipeline={{_base_.train_pipeline}}),
            dict(type={{_base_.dataset_type}}, data_root={{_base_.data_root}},
                 data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
                 ann_file='ImageSets/Segmentation/aug.txt', pipeline={{_base_.train_pipeline}}),
        ]))
