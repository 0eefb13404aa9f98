"""Checks that a built model and a built dataset agree, with errors naming the config keys to change."""


def _heads(model) -> list:
    """``(config key, head)`` of the decode head and the auxiliary heads."""
    model = getattr(model, 'module', model)  # DDP
    aux_heads = list(getattr(model, 'auxiliary_heads', []))
    heads = [('model.decode_head', getattr(model, 'decode_head', None))]
    heads += [('model.auxiliary_head' + (f'.{i}' if len(aux_heads) > 1 else ''), h) for i, h in enumerate(aux_heads)]
    return [(where, head) for where, head in heads if head is not None]


def check_num_classes(model, dataset, dataloader_key: str) -> None:
    """Raise if a head's ``num_classes`` differs from the number of classes the dataset labels (a one-channel
    sigmoid head, ``num_classes=1``, labels the two classes of binary data)."""
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if not classes:
        return
    for where, head in _heads(model):
        num_classes = getattr(head, 'num_classes', None)
        if num_classes is None or num_classes == len(classes) or (num_classes == 1 and len(classes) == 2):
            continue
        shown = ', '.join(map(str, classes[:8])) + (', ...' if len(classes) > 8 else '')
        raise ValueError(
            f'{where}.num_classes is {num_classes} but {dataloader_key}.dataset ({type(dataset).__name__}) has '
            f'{len(classes)} classes ({shown}). Set {where}.num_classes={len(classes)}, or give the dataset the '
            'classes you mean with metainfo=dict(classes=[...]).')


def check_ignore_index(model, dataset, dataloader_key: str) -> None:
    """Raise if the model ignores another label than the dataset marks unlabelled pixels with: its heads, their
    losses and samplers, and the label padding of its data preprocessor (``seg_pad_val``) must all use the
    dataset's ``ignore_index``, or unlabelled pixels are trained on (or crash the loss) without a word."""
    expected = ((getattr(dataset, 'metainfo', None) or {}).get('ignore_index'))
    if expected is None:
        return
    found = []
    for where, head in _heads(model):
        found.append((f'{where}.ignore_index', getattr(head, 'ignore_index', None)))
        losses = list(getattr(head, 'losses', []))
        found += [(f'{where}.loss_decode' + (f'[{i}]' if len(losses) > 1 else '') + '.ignore_index',
                   getattr(loss, 'ignore_index', None)) for i, loss in enumerate(losses)]
        found.append((f'{where}.sampler.ignore_index', getattr(getattr(head, 'sampler', None), 'ignore_index', None)))
    preprocessor = getattr(getattr(model, 'module', model), 'data_preprocessor', None)
    found.append(('model.data_preprocessor.seg_pad_val', getattr(preprocessor, 'seg_pad_val', None)))
    wrong = [(key, value) for key, value in found if value is not None and value != expected]
    if wrong:
        shown = ', '.join(f'{key}={value}' for key, value in wrong)
        raise ValueError(
            f'{shown} but {dataloader_key}.dataset.ignore_index={expected} ({type(dataset).__name__}): the model '
            f'would learn the pixels the dataset leaves unlabelled. Set {wrong[0][0]}={expected} (the model keys '
            f'above), or {dataloader_key}.dataset.ignore_index={wrong[0][1]} if that is the label of unlabelled '
            'pixels in your masks.')


def check_model_fits_dataset(model, dataset, dataloader_key: str) -> None:
    """Every model / dataset agreement checked before training: classes and ignore index."""
    check_num_classes(model, dataset, dataloader_key)
    check_ignore_index(model, dataset, dataloader_key)


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not belong to the model being built."""


def check_checkpoint_fits(model, state_dict: dict, source: str, resume: bool) -> None:
    """Raise when ``state_dict`` is for another architecture (fewer than half of the model's tensors found under
    their name and shape) or, when resuming, when any tensor is missing, unexpected or of another shape.

    Loading for fine-tuning or evaluation otherwise stays mmengine's non-strict load: a classifier of another
    number of classes, or MMSegmentation's auxiliary-head names, are reported by mmengine and loaded around.
    """
    own = {k: tuple(v.shape) for k, v in getattr(model, 'module', model).state_dict().items()}
    theirs = {(k[len('module.'):] if k.startswith('module.') else k): tuple(getattr(v, 'shape', ()))
              for k, v in state_dict.items()}
    missing = [k for k in own if k not in theirs]
    unexpected = [k for k in theirs if k not in own]
    reshaped = [f'{k} {theirs[k]} vs {own[k]}' for k in own if k in theirs and theirs[k] != own[k]]
    fitting = len(own) - len(missing) - len(reshaped)
    if not (fitting < len(own) / 2 or (resume and (missing or unexpected or reshaped))):
        return
    lines = [f'{name} ({len(keys)}): {", ".join(keys[:4])}{", ..." if len(keys) > 4 else ""}'
             for name, keys in (('missing in the checkpoint', missing), ('unexpected', unexpected),
                                ('of another shape (checkpoint vs model)', reshaped)) if keys]
    what = 'resume from it' if resume else 'load it'
    raise CheckpointMismatchError(
        f'{source} does not fit the model of this config ({fitting} of its {len(own)} tensors match by name and '
        f'shape), so segkit will not {what}:\n  ' + '\n  '.join(lines) + '\nUse the config the checkpoint was '
        'trained with; to start from another model\'s weights, load its backbone with model.backbone.init_cfg='
        "dict(type='Pretrained', checkpoint=..., prefix='backbone.') instead.")
