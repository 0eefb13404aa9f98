# PASCAL-Context, 60 classes (background + pascal_context_59.py's 59) on the same files: label 0 is a class here.
_base_ = './pascal_context_59.py'
dataset_type = 'PascalContextDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = val_dataloader
