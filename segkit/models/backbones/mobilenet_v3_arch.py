"""The layout of MobileNetV3-Large (Howard et al. 2019, Table 1), shared by the backbone
(:mod:`~segkit.models.backbones.mobilenet_v3`) and the torchvision key mapping
(:mod:`~segkit.models.backbones.convert_mobilenet_v3`)."""

#: The bneck blocks of MobileNetV3-Large, Table 1 of the paper: (kernel, expanded channels, output channels,
#: squeeze-and-excite, activation, stride). The stem has 16 channels, the last 1x1 conv 960.
LARGE_BLOCKS = (
    (3, 16, 16, False, 'ReLU', 1),
    (3, 64, 24, False, 'ReLU', 2),
    (3, 72, 24, False, 'ReLU', 1),
    (5, 72, 40, True, 'ReLU', 2),
    (5, 120, 40, True, 'ReLU', 1),
    (5, 120, 40, True, 'ReLU', 1),
    (3, 240, 80, False, 'HSwish', 2),
    (3, 200, 80, False, 'HSwish', 1),
    (3, 184, 80, False, 'HSwish', 1),
    (3, 184, 80, False, 'HSwish', 1),
    (3, 480, 112, True, 'HSwish', 1),
    (3, 672, 112, True, 'HSwish', 1),
    (5, 672, 160, True, 'HSwish', 2),
    (5, 960, 160, True, 'HSwish', 1),
    (5, 960, 160, True, 'HSwish', 1),
)
STEM_CHANNELS, LAST_CHANNELS = 16, 960
