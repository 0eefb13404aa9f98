import torch


def pixel_accuracy(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Top-1 accuracy in percent over the pixels that are not ``ignore_index`` (a training-log figure)."""
    valid = labels != ignore_index
    if not bool(valid.any()):
        return logits.new_tensor(0.0)
    correct = (logits.argmax(dim=1) == labels) & valid
    return correct.sum().float() * 100.0 / valid.sum()
