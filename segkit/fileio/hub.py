"""The Hugging Face Hub side of saved models, through ``huggingface_hub``: a repository's snapshot (the cache
first; offline with ``HF_HUB_OFFLINE=1``) and uploading a saved-model folder."""
import importlib
from pathlib import Path
from typing import Optional, Sequence


def _hub():
    try:
        return importlib.import_module('huggingface_hub')
    except ImportError as exc:
        raise ImportError("loading from or pushing to the Hugging Face Hub needs huggingface_hub: pip install -e "
                          "'.[hub]' (or pip install huggingface_hub)") from exc


def download_saved_model(repo_id: str, revision: Optional[str] = None, files: Sequence[str] = ()) -> Path:
    """The local snapshot folder of model repository ``repo_id`` (only ``files`` are fetched)."""
    hub = _hub()
    try:
        return Path(hub.snapshot_download(repo_id, revision=revision, allow_patterns=list(files) or None))
    except Exception as exc:  # noqa: BLE001  (the hub's errors differ by version; each is named below)
        offline = hub.constants.HF_HUB_OFFLINE
        raise OSError(f'{repo_id!r} is not a saved-model folder here and could not be fetched from the Hugging Face '
                      f'Hub{" (HF_HUB_OFFLINE=1)" if offline else ""}: {type(exc).__name__}: {exc}. Check the path, '
                      f'or fetch the repository once with network access (its cache is '
                      f'{hub.constants.HF_HUB_CACHE}).') from exc


def upload_folder(folder: Path, repo_id: str, *, private: Optional[bool] = None, token: Optional[str] = None,
                  commit_message: str = 'Upload segkit model', revision: Optional[str] = None):
    """Create model repository ``repo_id`` if needed and upload ``folder`` to it; returns the hub's commit info."""
    api = _hub().HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type='model')
    return api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=commit_message,
                             revision=revision, repo_type='model')
