"""Class probabilities of a head's logits for the losses, samplers and the training accuracy.

A head with C >= 2 channels is a softmax over them. A head with one channel (``num_classes=1``) is a sigmoid: its
probability p of the foreground gives the two classes background (label 0, 1 - p) and foreground (label 1, p), so
every probability-based loss reads both kinds of head the same way.
"""
import torch
import torch.nn.functional as F


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """N x K x ... float32 probabilities: the softmax over C >= 2 channels (K = C), or (1 - p, p) for one channel
    (K = 2, p the sigmoid)."""
    logits = logits.float()
    if logits.shape[1] == 1:
        foreground = logits.sigmoid()
        return torch.cat([1 - foreground, foreground], dim=1)
    return F.softmax(logits, dim=1)


def class_log_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """The log of :func:`class_probabilities`, computed stably (``logsigmoid`` for one channel)."""
    logits = logits.float()
    if logits.shape[1] == 1:
        return torch.cat([F.logsigmoid(-logits), F.logsigmoid(logits)], dim=1)
    return F.log_softmax(logits, dim=1)
