from . import frozen_bn  # noqa: F401  (norm_cfg type 'FrozenBN', in segkit's MODELS registry)
