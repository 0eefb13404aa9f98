from . import frozen_bn  # noqa: F401  (registers norm_cfg type 'FrozenBN' before any model part is built)
