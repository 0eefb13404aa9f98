"""segkit: the DeepLab family of semantic segmentation models on mmengine and mmcv-lite."""
__version__ = '0.1.0'

from .engine import checkpoint as _checkpoint  # noqa: E402,F401  (safe torch.load for every checkpoint path)
