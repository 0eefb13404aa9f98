"""Multi-scale + flip inference (DeepLabv3 section 4.1, DeepLabv3+ section 4: "MS + Flip")."""
from typing import List

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData

from segkit.models.postprocessors.refine import refine_predictions
from segkit.registry import SEGMENTORS
from segkit.structures import SegDataSample


@SEGMENTORS.register_module()
class SegTTAModel(BaseTTAModel):
    """Averages the class probabilities of every augmented view of an image.

    The wrapped segmentor's ``predict`` already returns logits at the original image size with flips undone,
    so the views line up pixel for pixel. Use with a ``TestTimeAug`` pipeline (``tta_pipeline`` in the dataset
    configs: scales 0.5-1.75 and horizontal flip) through ``tools/test.py --tta``.

    A CRF in the wrapped model's ``test_cfg`` (``--tta --crf``) runs once, on the merged probabilities and the
    original image (as DeepLab v2 applies it after fusing its multi-scale outputs), not on every view.
    """

    def __init__(self, module, **kwargs):
        super().__init__(module, **kwargs)
        self.crf, self.module.crf = getattr(self.module, 'crf', None), None

    def merge_preds(self, data_samples_list: List[List[SegDataSample]]) -> List[SegDataSample]:
        merged = []
        for views in data_samples_list:
            probs = sum(view.seg_logits.data.softmax(dim=0) for view in views) / len(views)
            out = SegDataSample(metainfo={k: v for k, v in views[0].metainfo.items() if k not in ('flip',)})
            out.set_metainfo(dict(flip=False))
            out.seg_logits = PixelData(data=torch.log(probs.clamp_min(1e-12)))
            out.pred_sem_seg = PixelData(data=probs.argmax(dim=0, keepdim=True))
            if 'gt_sem_seg' in views[0]:
                out.gt_sem_seg = views[0].gt_sem_seg
            merged.append(out)
        return merged if self.crf is None else refine_predictions(self.crf, merged)
