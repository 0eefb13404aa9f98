import torch

from segkit.models.inference.predictions import labels_from_logits


def pixel_accuracy(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Top-1 accuracy in percent over the pixels that are not ``ignore_index`` (a training-log figure); a
    one-channel (sigmoid) head predicts the foreground where its probability exceeds 0.5."""
    valid = labels != ignore_index
    if not bool(valid.any()):
        return logits.new_tensor(0.0)
    correct = (labels_from_logits(logits, dim=1)[:, 0] == labels) & valid
    return correct.sum().float() * 100.0 / valid.sum()
