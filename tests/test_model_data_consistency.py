"""Model and dataset must agree before training: classes (a one-channel head for 2 classes) and the ignore index
of every head, loss, sampler and the label padding, each named by its config key."""
import pytest

from segkit.engine.consistency import check_ignore_index, check_model_fits_dataset
from segkit.registry import MODELS
from tests.helpers import tiny_deeplabv3plus


class Dataset:
    def __init__(self, ignore_index=255, classes=('a', 'b', 'c')):
        self.metainfo = dict(classes=classes, ignore_index=ignore_index)


def model_with(**changes):
    cfg = tiny_deeplabv3plus()
    for key, value in changes.items():
        section, name = key.split('__')
        cfg[section][name] = value
    return MODELS.build(cfg)


def test_matching_ignore_index_passes():
    check_model_fits_dataset(model_with(), Dataset(255), 'train_dataloader')
    check_model_fits_dataset(model_with(decode_head__ignore_index=11, auxiliary_head__ignore_index=11,
                                        data_preprocessor__seg_pad_val=11), Dataset(11), 'train_dataloader')


@pytest.mark.parametrize('changes, named', [
    (dict(decode_head__ignore_index=11), 'model.decode_head.ignore_index=11'),
    (dict(auxiliary_head__loss_decode=dict(type='CrossEntropyLoss', ignore_index=0)),
     'model.auxiliary_head.loss_decode.ignore_index=0'),
    (dict(decode_head__sampler=dict(type='OHEMPixelSampler', thresh=0.7, ignore_index=7)),
     'model.decode_head.sampler.ignore_index=7'),
    (dict(data_preprocessor__seg_pad_val=0), 'model.data_preprocessor.seg_pad_val=0'),
])
def test_each_model_key_that_differs_from_the_dataset_is_named(changes, named):
    with pytest.raises(ValueError, match=rf'{named}.* but train_dataloader.dataset.ignore_index=255 \(Dataset\)'):
        check_ignore_index(model_with(**changes), Dataset(255), 'train_dataloader')


def test_dataset_without_an_ignore_index_is_not_checked():
    class Bare:
        metainfo = dict(classes=('a', 'b', 'c'))
    check_ignore_index(model_with(decode_head__ignore_index=11), Bare(), 'train_dataloader')
