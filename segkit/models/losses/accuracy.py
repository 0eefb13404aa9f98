import torch

from segkit.models.inference.predictions import labels_from_logits


def pixel_accuracy(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Top-1 accuracy in percent over the pixels that are not ``ignore_index`` (a training-log figure); a
    one-channel (sigmoid) head predicts the foreground where its probability exceeds 0.5; 0 when every pixel
    is ignored."""
    valid = labels != ignore_index
    correct = (labels_from_logits(logits, dim=1)[:, 0] == labels) & valid
    # 0 where every pixel is ignored; no bool(valid.any()): it would stop a compiled step (and sync a GPU)
    return correct.sum().float() * 100.0 / valid.sum().clamp(min=1)
