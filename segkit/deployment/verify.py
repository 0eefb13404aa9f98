"""Check that an exported model computes what the PyTorch segmentor computes."""
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from segkit.structures import SegDataSample

__all__ = ['LOGIT_TOLERANCE', 'LABEL_AGREEMENT', 'compare_with_pytorch', 'format_report', 'pytorch_logits']

LOGIT_TOLERANCE = 1e-3   # largest |exported - PyTorch| logit allowed
LABEL_AGREEMENT = 0.999  # smallest share of pixels with the same arg-max class


@torch.no_grad()
def pytorch_logits(model: torch.nn.Module, images_bgr: Sequence[np.ndarray]) -> np.ndarray:
    """N x C x H x W logits of the segmentor's own inference (data preprocessor, predict, un-padding)."""
    inputs, samples = [], []
    for image in images_bgr:
        h, w = image.shape[:2]
        inputs.append(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))))
        samples.append(SegDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w))))
    results = model.test_step(dict(inputs=inputs, data_samples=samples))
    return torch.stack([r.seg_logits.data for r in results]).float().cpu().numpy()


def _compare(model, backend, images: List[np.ndarray]) -> dict:
    expected = pytorch_logits(model, images)
    got = backend(np.stack([img.transpose(2, 0, 1) for img in images]).astype(np.float32))
    if got.shape != expected.shape:
        raise ValueError(f'{backend.name} returned logits of shape {got.shape}, PyTorch {expected.shape}')
    agreement = float((got.argmax(1) == expected.argmax(1)).mean())
    max_diff = float(np.abs(got - expected).max())
    return dict(backend=backend.name, shape=tuple(got.shape), max_abs_diff=max_diff, label_agreement=agreement,
                passed=max_diff <= LOGIT_TOLERANCE and agreement >= LABEL_AGREEMENT)


def compare_with_pytorch(model: torch.nn.Module, backend, image_bgr: np.ndarray,
                         shape: Optional[Sequence[int]] = None) -> List[dict]:
    """Run ``backend`` and ``model`` on the same real image and return one record per check.

    A static backend is checked on the image resized to its input size. A dynamic one is checked on the image
    at its own size and on a batch of two at ``shape`` (the image and its mirror), which exercises every
    dynamic axis.
    """
    fixed = backend.input_shape
    if fixed is not None:
        return [_compare(model, backend, [cv2.resize(image_bgr, (fixed[1], fixed[0]))])]
    records = [_compare(model, backend, [image_bgr])]
    if shape is not None:
        resized = cv2.resize(image_bgr, (shape[1], shape[0]))
        records.append(_compare(model, backend, [resized, np.ascontiguousarray(resized[:, ::-1])]))
    return records


def format_report(records: Sequence[dict]) -> str:
    lines = [f'{"backend":<13} {"input (N, C, H, W)":<22} {"max |logit diff|":>17} {"same label":>11}  check',
             f'{"":<13} {"":<22} {"<= " + format(LOGIT_TOLERANCE, "g"):>17} '
             f'{">= " + format(100 * LABEL_AGREEMENT, "g") + " %":>11}']
    for r in records:
        lines.append(f"{r['backend']:<13} {str(r['shape']):<22} {r['max_abs_diff']:>17.2e} "
                     f"{100 * r['label_agreement']:>9.3f} %  {'ok' if r['passed'] else 'FAILED'}")
    return '\n'.join(lines)
