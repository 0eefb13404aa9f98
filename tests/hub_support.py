"""A Hugging Face cache in tmp that the hub code reads offline, for the tests of weights and saved models."""
from pathlib import Path

import pytest


def fill_hub_cache(cache: Path, repo_id: str, files: dict, commit: str = 'a' * 40) -> Path:
    """The Hugging Face cache layout holding ``files`` ({name: source path}) as ``repo_id``'s main revision."""
    storage = cache / ('models--' + repo_id.replace('/', '--'))
    snapshot = storage / 'snapshots' / commit
    snapshot.mkdir(parents=True)
    for name, source in files.items():
        (snapshot / name).write_bytes(Path(source).read_bytes())
    (storage / 'refs').mkdir()
    (storage / 'refs' / 'main').write_text(commit)
    return snapshot


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache in tmp and HF_HUB_OFFLINE=1 (read when huggingface_hub is imported, so the
    constants are set too)."""
    from huggingface_hub import constants
    cache = tmp_path / 'hf' / 'hub'
    cache.mkdir(parents=True)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(cache))
    return cache
