"""segkit: the DeepLab family of semantic segmentation models on mmengine and mmcv-lite.

Importing segkit changes nothing in mmengine; checkpoint IO goes through segkit's safe loader and atomic writer
only inside :func:`segkit.engine.checkpoint.safe_checkpoint_io`, which the tools and :func:`segkit.apis.init_model`
enter.
"""
__version__ = '0.1.0'


def __getattr__(name):
    """``segkit.from_pretrained`` (imported on first use: it pulls in the engine and the models)."""
    if name == 'from_pretrained':
        from segkit.apis.pretrained import from_pretrained
        return from_pretrained
    raise AttributeError(f"module 'segkit' has no attribute {name!r}")
