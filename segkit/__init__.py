"""segkit: the DeepLab family of semantic segmentation models on mmengine and mmcv-lite.

Importing segkit changes nothing in mmengine; checkpoint IO goes through segkit's safe loader and atomic writer
only inside :func:`segkit.engine.checkpoint.safe_checkpoint_io`, which the tools and :func:`segkit.apis.init_model`
enter.
"""
__version__ = '0.1.0'
