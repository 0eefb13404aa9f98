"""The ``README.md`` of a saved model: what it is, what it was trained on, how well it does, how to run it."""
from typing import Mapping, Optional

#: decode head type -> the DeepLab version it makes
FAMILIES = {
    'DepthwiseSeparableASPPHead': 'DeepLabv3+ (arXiv:1802.02611)',
    'ASPPHead': 'DeepLabv3 (arXiv:1706.05587)',
    'LogitSumASPPHead': 'DeepLab v2 ASPP (arXiv:1606.00915)',
    'LargeFOVHead': 'DeepLab v1 LargeFOV (arXiv:1412.7062)',
}


def _backbone(backbone: Mapping) -> str:
    kind = str(backbone.get('type', '?'))
    if kind == 'TimmBackbone':
        return f"timm `{backbone.get('model_name')}` (TimmBackbone)"
    depth = backbone.get('depth')
    return f'{kind}-{depth}' if depth else kind


def _data(config: Mapping) -> str:
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (config.get(loader) or {}).get('dataset') or {}
        if dataset.get('type'):
            root = dataset.get('data_root')
            return f"{dataset['type']}" + (f' (`{root}`)' if root else '')
    return 'not recorded'


def model_card(name: str, config: Mapping, meta: Mapping) -> str:
    """Markdown with Hub front matter; ``meta`` holds ``classes``, ``metrics`` (e.g. ``{'mIoU': 66.1}``) and
    ``command`` (how it was trained), each optional."""
    model = config.get('model') or {}
    head = str((model.get('decode_head') or {}).get('type', '?'))
    classes = list(meta.get('classes') or [])
    metrics: Mapping = meta.get('metrics') or {}
    command: Optional[str] = meta.get('command')
    score = ', '.join(f'{key} {value:.2f}' for key, value in metrics.items()) if metrics else 'not measured'
    lines = [
        '---', 'library_name: segkit', 'pipeline_tag: image-segmentation',
        'tags: [semantic-segmentation, deeplab, segkit]', '---', '',
        f'# {name}', '',
        f'{FAMILIES.get(head, head)} semantic segmentation with a {_backbone(model.get("backbone") or {})} '
        f'encoder, output stride {model.get("output_stride", "as the backbone gives")}, made with segkit.', '',
        '| | |', '|---|---|',
        f'| data | {_data(config)} |',
        f'| classes | {len(classes)}: {", ".join(map(str, classes))} |' if classes else '| classes | not recorded |',
        f'| validation | {score} |',
        f'| trained with | `{command}` |' if command else '| trained with | not recorded |',
        '', '## Use', '', '```python', 'import segkit', 'from segkit.apis import inference_model', '',
        f"model = segkit.from_pretrained('{name}')  # a local folder or a Hub repository id",
        "result = inference_model(model, 'image.png')  # result.label_map: HxW class ids",
        '```', '', '```bash',
        f'python tools/inference.py {name} image.png --out out/   # overlays and label PNGs (a local folder)',
        f'python tools/test.py {name}                             # metrics on the config\'s test set',
        '```', '',
        'Files: `model.safetensors` (every tensor of the state dict), `config.py` (the resolved config), '
        '`meta.json` (classes, palette, metrics).', '']
    return '\n'.join(lines)
