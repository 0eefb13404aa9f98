"""What a head's ``loss_decode`` means: one loss config or a list of them, and the default loss when a config
gives none (the softmax cross-entropy of every DeepLab paper)."""
from typing import List, Mapping, Sequence, Union

from mmengine.logging import print_log

LossCfg = Union[Mapping, Sequence[Mapping]]

#: The loss of a head whose config has no ``loss_decode``.
DEFAULT_LOSS = dict(type='CrossEntropyLoss', loss_weight=1.0)


def loss_configs(owner: str, loss_decode: LossCfg) -> List[dict]:
    """``loss_decode`` as a list of complete loss configs.

    One dict without ``type`` changes the default loss: it is merged onto :data:`DEFAULT_LOSS`, and the merge is
    logged. That is what ``--cfg-options model.decode_head.loss_decode.class_weight=[...]`` gives on a config that
    leaves the loss to the head (mmengine creates ``loss_decode=dict(class_weight=[...])``). In a list, an entry
    without ``type`` has no default to complete (which loss would it change?) and is refused.
    """
    if isinstance(loss_decode, Mapping):
        if 'type' in loss_decode:
            return [dict(loss_decode)]
        merged = {**DEFAULT_LOSS, **loss_decode}
        print_log(f'{owner}: loss_decode={dict(loss_decode)} names no loss type: merged onto the default loss, '
                  f'{merged}', logger='current')
        return [merged]
    cfgs = [dict(cfg) if isinstance(cfg, Mapping) else cfg for cfg in loss_decode]
    for index, cfg in enumerate(cfgs):
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise ValueError(f'{owner}: loss_decode[{index}]={cfg!r} names no loss type. Each loss of a list needs '
                             f"one, e.g. dict(type='CrossEntropyLoss', loss_weight=1.0); to change the default loss "
                             f'instead, give loss_decode as a single dict without type (e.g. --cfg-options '
                             f'model.decode_head.loss_decode.class_weight=[...]).')
    return cfgs
