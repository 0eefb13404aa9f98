"""``segkit.from_pretrained``: a saved model (local folder or Hugging Face Hub repository) ready for inference."""
from pathlib import Path
from typing import Optional, Union

import torch

from segkit.fileio.saved_model import resolve_saved_model
from .inference import init_model


def from_pretrained(name_or_path: Union[str, Path], *, revision: Optional[str] = None, device: str = 'cpu',
                    cfg_options: Optional[dict] = None, tta: bool = False, fast: bool = True) -> torch.nn.Module:
    """Rebuild a model written by ``model.save_pretrained(DIR)`` / ``tools/train.py --save-pretrained DIR`` from
    its folder alone, or from Hub repository ``'user/repo'`` (``huggingface_hub.snapshot_download``: its cache
    first, so it works offline with ``HF_HUB_OFFLINE=1`` once fetched). The other arguments are
    :func:`~segkit.apis.init_model`'s; ``fast=False`` runs the model exactly as saved."""
    folder = resolve_saved_model(name_or_path, revision=revision)
    return init_model(folder, device=device, cfg_options=cfg_options, tta=tta, fast=fast)
