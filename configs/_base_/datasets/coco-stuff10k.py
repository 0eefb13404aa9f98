# COCO-Stuff 10k (171 classes; 9000 train / 1000 test images, COCO 2014): images/{train2014,test2014}/*.jpg and
# annotations/{train2014,test2014}/*_labelTrainIds.png (1-171, 0 unlabelled: reduce_zero_label, which
# LoadAnnotations takes from the dataset), made from the official cocostuff-10k-v1.1.zip by
# tools/dataset_converters/coco_stuff.py 10k. MMSegmentation's coco-stuff10k.py: coco-stuff164k.py's settings.
_base_ = './coco-stuff164k.py'
data_root = 'data/coco_stuff10k'
train_dataloader = dict(
    dataset=dict(data_root=data_root, reduce_zero_label=True,
                 data_prefix=dict(img_path='images/train2014', seg_map_path='annotations/train2014')))
val_dataloader = dict(
    dataset=dict(data_root=data_root, reduce_zero_label=True,
                 data_prefix=dict(img_path='images/test2014', seg_map_path='annotations/test2014')))
test_dataloader = val_dataloader
