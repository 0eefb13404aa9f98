# ISPRS Vaihingen (6 classes), tiled by tools/dataset_converters/vaihingen.py from the official
# ISPRS_semantic_labeling_Vaihingen.zip and ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE.zip into
# 512x512 tiles: data/vaihingen/{img_dir,ann_dir}/{train,val}/*.png (344 train / 398 val tiles). Label 0 (eroded
# class boundaries) is ignored (reduce_zero_label). MMSegmentation's vaihingen.py: potsdam.py's settings.
_base_ = './potsdam.py'
dataset_type = 'ISPRSDataset'
data_root = 'data/vaihingen'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
