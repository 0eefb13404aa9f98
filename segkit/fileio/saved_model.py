"""A trained model as one folder, as the Hugging Face Hub keeps models: weights, config, classes and a card.

``DIR/model.safetensors``
    every tensor of the segmentor's ``state_dict()`` (parameters and buffers, BN statistics included), as they
    are: loading it back gives a bit-identical model.
``DIR/config.py``
    the resolved config (mmengine's dump: ``_base_`` files merged, ``{{$SEGKIT_WEIGHTS}}`` filled in), without
    the keys of one run (``work_dir``, ``load_from``, ``resume``, ``launcher``): the model, its test pipeline and
    its data settings rebuild from it alone.
``DIR/meta.json``
    the data set's ``classes`` and ``palette``, the metrics known at saving (``{"mIoU": ...}``), the command that
    made it and the format version.
``DIR/README.md``
    the model card (:mod:`.model_card`).

:func:`write_saved_model` writes the folder, :func:`open_saved_model` reads it back (names the missing file), and
:func:`resolve_saved_model` finds one: a local folder, or a Hub repository id through
``huggingface_hub.snapshot_download`` (its cache; offline with ``HF_HUB_OFFLINE=1``).
"""
import json
import os
import re
from pathlib import Path
from typing import Dict, Mapping, NamedTuple, Optional, Union

import torch
from mmengine.config import Config

WEIGHTS_FILE = 'model.safetensors'
CONFIG_FILE = 'config.py'
META_FILE = 'meta.json'
CARD_FILE = 'README.md'
FILES = (WEIGHTS_FILE, CONFIG_FILE, META_FILE, CARD_FILE)
FORMAT = 'segkit-saved-model'
FORMAT_VERSION = 1
#: Config keys that belong to one run, not to the model: left out of ``config.py``.
RUN_KEYS = ('work_dir', 'load_from', 'resume', 'launcher')
_REPO_ID = re.compile(r'^[\w.-]+/[\w.-]+$')

PathLike = Union[str, os.PathLike]


class SavedModel(NamedTuple):
    """The files of a saved-model folder and its ``meta.json``."""

    folder: Path
    config: Path
    weights: Path
    meta: Dict


def is_saved_model(path: PathLike) -> bool:
    """Whether ``path`` is a folder with a saved model's config and weights."""
    path = Path(path)
    return path.is_dir() and (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


def open_saved_model(folder: PathLike) -> SavedModel:
    """The files of ``folder``; a missing one is an error naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'saved model not found: {folder} is not a folder')
    missing = [name for name in (WEIGHTS_FILE, CONFIG_FILE, META_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f'{folder} is not a complete saved model: {", ".join(missing)} missing (a saved '
                                f'model holds {", ".join(FILES)}; model.save_pretrained(DIR) or tools/train.py '
                                '--save-pretrained DIR writes one)')
    meta = json.loads((folder / META_FILE).read_text())
    if meta.get('format') != FORMAT or meta.get('format_version', 0) > FORMAT_VERSION:
        raise ValueError(f'{folder / META_FILE}: format {meta.get("format")!r} version '
                         f'{meta.get("format_version")!r} is not one this segkit reads ({FORMAT} <= {FORMAT_VERSION})')
    return SavedModel(folder, folder / CONFIG_FILE, folder / WEIGHTS_FILE, meta)


def resolve_saved_model(name_or_path: PathLike, revision: Optional[str] = None) -> Path:
    """A local saved-model folder, or the snapshot of Hub repository ``user/repo`` (downloaded once into the
    Hugging Face cache; read from there offline)."""
    path = Path(name_or_path)
    if path.exists() or not _REPO_ID.match(str(name_or_path)):
        return open_saved_model(path).folder
    from .hub import download_saved_model
    return open_saved_model(download_saved_model(str(name_or_path), revision=revision, files=FILES)).folder


def config_for_saving(cfg: Config) -> Config:
    """A copy of ``cfg`` without the keys of one run (:data:`RUN_KEYS`)."""
    cfg = Config(cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg))
    for key in RUN_KEYS:
        cfg.pop(key, None)
    return cfg


def write_saved_model(folder: PathLike, state_dict: Mapping[str, torch.Tensor], config: Config, meta: Mapping,
                      card: str) -> Path:
    """Write the four files of a saved model into ``folder`` (created; files already there are replaced)."""
    try:
        from safetensors.torch import save_file
    except ImportError as exc:
        raise ImportError("saving a model needs safetensors: pip install -e '.[hub]' (or pip install "
                          'safetensors)') from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {key: value.detach().cpu().contiguous() for key, value in state_dict.items()}
    # one metadata key: the header is the same bytes every time (safetensors orders several at random)
    save_file(tensors, str(folder / WEIGHTS_FILE), metadata={'format': 'pt'})
    config_for_saving(config).dump(str(folder / CONFIG_FILE))
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION)
    (folder / META_FILE).write_text(json.dumps(_plain(meta), indent=2) + '\n')
    (folder / CARD_FILE).write_text(card)
    return folder


def _plain(value):
    """JSON-ready: numpy / torch scalars and arrays as numbers and lists, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, 'tolist'):
        return value.tolist()
    return value
