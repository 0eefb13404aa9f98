"""The network as deployed: raw BGR pixels in, logits at the input's size out."""
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['DeployableSegmentor']


class DeployableSegmentor(nn.Module):
    """Wraps an :class:`EncoderDecoder` into the graph that export formats hold.

    Input: ``N x 3 x H x W`` float32, BGR, values 0-255 (what ``cv2.imread`` gives, transposed to CHW).
    Output: ``N x C x H x W`` float32 logits. Inside: the data preprocessor's normalisation and BGR->RGB flip,
    bottom/right padding to its test-time ``size_divisor`` (padding value 0 after normalisation, as in
    PyTorch inference), the whole-image forward, bilinear resizing to the padded size and cropping the padding
    away: the same operations ``inference_model`` runs, so the exported logits match PyTorch's.
    """

    def __init__(self, segmentor: nn.Module):
        super().__init__()
        pre = segmentor.data_preprocessor
        self.segmentor = segmentor
        self.register_buffer('mean', pre.mean.detach().clone().view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', pre.std.detach().clone().view(1, 3, 1, 1), persistent=False)
        self.bgr_to_rgb = bool(pre.bgr_to_rgb)
        self.size_divisor = int(pre.test_cfg.get('size_divisor', pre.size_divisor) or 1)
        self.align_corners = bool(segmentor.align_corners)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        x = image.flip(1) if self.bgr_to_rgb else image
        x = (x - self.mean) / self.std
        d = self.size_divisor
        x = F.pad(x, (0, (d - w % d) % d, 0, (d - h % d) % d))
        logits = self.segmentor.decode_head(self.segmentor.extract_feat(x))
        logits = F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=self.align_corners)
        return logits[:, :, :h, :w]
