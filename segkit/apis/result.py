"""What ``inference_model`` returns: a SegDataSample that can also draw and save itself."""
from pathlib import Path
from typing import List, Optional, Tuple, Union

import mmcv
import numpy as np
import torch

from segkit.structures import SegDataSample
from segkit.visualization import add_legend, draw_overlay, legend_entries, write_label_png

__all__ = ['SegmentationResult']


class SegmentationResult(SegDataSample):
    """``pred_sem_seg`` (1xHxW labels) and ``seg_logits`` (CxHxW) at the image's original size, as in every
    :class:`SegDataSample`; its metainfo adds the model's ``classes`` and ``palette`` (RGB, one colour per class)
    and, for array inputs, the array (``img``) and its ``channel_order``, so that

        >>> result.label_map                    # HxW int64 numpy array
        >>> result.probabilities                # CxHxW softmax of the logits (torch, float32)
        >>> result.save_label_map('a.png')      # palette PNG: opens in colour, pixel values are class ids
        >>> result.save_overlay('b.png')        # image blended with class colours + legend of classes present
    """

    @property
    def label_map(self) -> np.ndarray:
        return self.pred_sem_seg.data[0].cpu().numpy()

    @property
    def probabilities(self) -> torch.Tensor:
        """Per-class probabilities, CxHxW, summing to 1 over classes at every pixel."""
        return self.seg_logits.data.float().softmax(dim=0)

    def legend(self) -> List[Tuple[str, Tuple[int, int, int]]]:
        """``(name with pixel share, RGB colour)`` for each predicted class, by class id."""
        return legend_entries([self.label_map], self.metainfo.get('classes'), self.palette, with_share=True)

    def overlay(self, image: Optional[np.ndarray] = None, *, opacity: float = 0.5, legend: bool = True
                ) -> np.ndarray:
        """The input blended with class colours (``opacity`` = colour weight), with a legend panel on the right.

        ``image`` defaults to the array the result was computed from, or its file. Returned in the input's
        channel order (BGR unless ``inference_model(..., channel_order='rgb')`` was used).
        """
        rgb = self.metainfo.get('channel_order', 'bgr') == 'rgb'
        if image is None:
            image = self.metainfo.get('img')
        if image is None:
            if not self.metainfo.get('img_path'):
                raise ValueError('this result has no image to draw on: pass overlay(image=...)')
            image, rgb = mmcv.imread(self.metainfo['img_path']), False
        bgr = image[..., ::-1] if rgb and image.ndim == 3 else image
        drawn = draw_overlay(np.ascontiguousarray(bgr), self.label_map, self.palette, alpha=opacity)
        if legend:
            drawn = add_legend(drawn, self.legend())
        return np.ascontiguousarray(drawn[..., ::-1]) if rgb else drawn

    def save_overlay(self, path: Union[str, Path], image: Optional[np.ndarray] = None, *, opacity: float = 0.5,
                     legend: bool = True) -> None:
        drawn = self.overlay(image, opacity=opacity, legend=legend)
        if self.metainfo.get('channel_order', 'bgr') == 'rgb':
            drawn = drawn[..., ::-1]
        mmcv.imwrite(drawn, str(path))

    def save_label_map(self, path: Union[str, Path]) -> None:
        write_label_png(path, self.label_map, self.palette)
