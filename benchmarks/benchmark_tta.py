"""Time and memory churn of multi-scale + flip testing: segkit's in-model way (``--tta``) against the data-pipeline
way (MMSegmentation's ``TestTimeAug`` + ``SegTTAModel``, rebuilt here as the reference), on a config's validation
images.

    python benchmarks/benchmark_tta.py CONFIG [CHECKPOINT] [--num-images 5] [--cfg-options ...]

For each way: seconds per image (data loading included, as tools/test.py runs it), the part of it spent in the
network's forward passes (``encode_decode``, timed inside), the overhead beyond those forwards, and minor page
faults per image (``getrusage``: each is a fresh page the allocator had to map, i.e. memory churn). Both ways run
the config's ``tta_scales`` with flips.
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--num-images', type=int, default=5)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def timed_forwards(segmentor):
    """Wrap ``segmentor.encode_decode`` so the seconds spent in it add up in the returned list."""
    spent = [0.0]
    inner = segmentor.encode_decode

    def encode_decode(inputs, metas):
        start = time.perf_counter()
        out = inner(inputs, metas)
        spent[0] += time.perf_counter() - start
        return out
    segmentor.encode_decode = encode_decode
    return spent


def pipeline_tta(segmentor, scales):
    """MMSegmentation's way: each view loaded, resized and flipped by a TestTimeAug pipeline, run through the plain
    segmentor, the views' softmax averaged at the original size (what its SegTTAModel does)."""
    from mmengine.model import BaseTTAModel
    from mmengine.structures import PixelData

    class PipelineTTA(BaseTTAModel):
        def merge_preds(self, data_samples_list):
            merged = []
            for views in data_samples_list:
                probs = sum(view.seg_logits.data.softmax(dim=0) for view in views) / len(views)
                out = views[0]
                out.seg_logits = PixelData(data=probs.clamp_min(1e-12).log())
                out.pred_sem_seg = PixelData(data=probs.argmax(dim=0, keepdim=True))
                merged.append(out)
            return merged

    pipeline = [dict(type='LoadImageFromFile'), dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale_factor=s, keep_ratio=True) for s in scales],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]
    return PipelineTTA(segmentor), pipeline


def run(way: str, args) -> dict:
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from segkit.apis import init_model
    from segkit.models.inference.switches import tta_from_config
    from segkit.registry import DATASETS
    model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options, tta=way == 'in-model')
    segmentor = model
    dataset_cfg = model.cfg.val_dataloader.dataset.copy()
    if way == 'pipeline':
        model, dataset_cfg.pipeline = pipeline_tta(segmentor, tta_from_config(model.cfg)[0])
    init_default_scope('segkit')  # TestTimeAug builds its transforms through the default scope
    dataset = DATASETS.build(dataset_cfg)
    spent = timed_forwards(segmentor)
    with torch.no_grad():
        model.test_step(pseudo_collate([dataset[0]]))  # warm-up (and the first call's one-off work)
        spent[0] = 0.0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        for i in range(args.num_images):
            model.test_step(pseudo_collate([dataset[1 + i % (len(dataset) - 1)]]))
        total = time.perf_counter() - start
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    n = args.num_images
    return dict(way=way, seconds=total / n, forwards=spent[0] / n, faults=faults / n)


def main(argv=None):
    args = parse_args(argv)
    rows = [run(way, args) for way in ('pipeline', 'in-model')]
    print(f'{args.num_images} validation images of {args.config}, scales and flips of its tta_scales')
    print('| way | s / image | in forwards | overhead beyond the forwards | minor page faults / image |')
    print('|---|---|---|---|---|')
    for r in rows:
        overhead = 100 * (r['seconds'] - r['forwards']) / r['forwards']
        print(f"| {r['way']} | {r['seconds']:.3f} | {r['forwards']:.3f} | {overhead:.1f} % | {r['faults']:,.0f} |")
    return rows


if __name__ == '__main__':
    main()
