# Mapillary Vistas v1.2 with the benchmark's 65 classes: 'Unlabeled' (label 65) becomes the ignore index.
_base_ = './mapillary_v1.py'
from segkit.datasets.mapillary import MAPILLARY_V1_CLASSES as _CLASSES, MAPILLARY_V1_PALETTE as _PALETTE  # noqa: E402
metainfo = dict(classes=_CLASSES[:65], palette=_PALETTE[:65])
train_dataloader = dict(dataset=dict(metainfo=metainfo))
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = val_dataloader
