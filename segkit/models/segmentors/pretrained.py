"""``model.save_pretrained(DIR)`` and ``model.push_to_hub('user/repo')``: a segmentor as one saved-model folder
(the layout: :mod:`segkit.fileio.saved_model`); ``segkit.from_pretrained`` (:mod:`segkit.apis.pretrained`)
rebuilds it."""
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Union

from mmengine.config import Config
from torch import nn

from segkit import __version__
from segkit.fileio.hub import upload_folder
from segkit.fileio.model_card import model_card
from segkit.fileio.saved_model import write_saved_model
from segkit.visualization.palette import get_palette


def _config(model: nn.Module, config: Optional[Union[Config, Mapping]]) -> Config:
    """The config to save: the one given, else the one the model was built from (``init_model`` and
    ``from_pretrained`` record it as ``model.source_cfg``, before their inference switches)."""
    config = config if config is not None else getattr(model, 'source_cfg', None) or getattr(model, 'cfg', None)
    if config is None:
        raise ValueError('save_pretrained: this model does not know its config; pass config=... (the whole config: '
                         'model, test pipeline and data settings). Models from segkit.apis.init_model / '
                         'segkit.from_pretrained carry theirs; tools/train.py --save-pretrained DIR passes the run\'s.')
    config = config if isinstance(config, Config) else Config(dict(config))
    if 'model' not in config:
        raise ValueError(f'save_pretrained: config=... has no model section (keys: {", ".join(config)}): pass the '
                         'whole config the model was built from')
    return config


def _meta(model: nn.Module, dataset_meta: Optional[Mapping], metrics: Optional[Mapping],
          command: Optional[str]) -> dict:
    dataset_meta = dict(dataset_meta if dataset_meta is not None else getattr(model, 'dataset_meta', None) or {})
    classes = dataset_meta.get('classes')
    num_classes = getattr(model, 'num_classes', None)
    if classes is not None and num_classes is not None and len(classes) != num_classes:
        raise ValueError(f'save_pretrained: dataset_meta has {len(classes)} classes but the model predicts '
                         f'{num_classes}: pass the dataset_meta of the data it was trained on')
    palette = dataset_meta.get('palette')
    if num_classes is not None:
        palette = get_palette(palette=palette, classes=classes, num_classes=num_classes)
    return dict(classes=None if classes is None else list(classes), palette=palette, num_classes=num_classes,
                metrics=dict(metrics or {}), command=command, segkit_version=__version__)


def save_pretrained(model: nn.Module, folder: Union[str, Path], *, config: Optional[Union[Config, Mapping]] = None,
                    dataset_meta: Optional[Mapping] = None, metrics: Optional[Mapping[str, float]] = None,
                    command: Optional[str] = None, name: Optional[str] = None) -> Path:
    """Write ``model`` as a saved-model folder: ``model.safetensors``, ``config.py``, ``meta.json``, ``README.md``.

    Args:
        config: the config the model was built from (default: ``model.source_cfg`` / ``model.cfg``).
        dataset_meta: ``classes`` and ``palette`` (default: ``model.dataset_meta``).
        metrics: validation results for the card, e.g. ``{'mIoU': 66.1}``.
        command: how the model was trained, for the card.
        name: the title of the card (default: the folder's name).
    """
    folder = Path(folder)
    cfg = _config(model, config)
    meta = _meta(model, dataset_meta, metrics, command)
    card = model_card(name or folder.resolve().name, cfg, meta)
    return write_saved_model(folder, model.state_dict(), cfg, meta, card)


def push_to_hub(model: nn.Module, repo_id: str, *, private: Optional[bool] = None, token: Optional[str] = None,
                commit_message: str = 'Upload segkit model', **save_kwargs):
    """:func:`save_pretrained` into a temporary folder and upload it to Hub repository ``repo_id`` (created if
    needed); returns ``huggingface_hub``'s commit info."""
    with tempfile.TemporaryDirectory() as tmp:
        save_kwargs.setdefault('name', repo_id)
        save_pretrained(model, Path(tmp) / repo_id.split('/')[-1], **save_kwargs)
        return upload_folder(Path(tmp) / repo_id.split('/')[-1], repo_id, private=private, token=token,
                             commit_message=commit_message)
