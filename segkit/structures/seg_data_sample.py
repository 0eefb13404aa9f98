"""The per-image record that flows between datasets, models and metrics (same fields as MMSegmentation's)."""
from mmengine.structures import BaseDataElement, PixelData


class SegDataSample(BaseDataElement):
    """Holds ``gt_sem_seg`` (1xHxW labels), ``pred_sem_seg`` (1xHxW labels) and ``seg_logits`` (CxHxW) as
    :class:`PixelData`, plus image meta information (``img_path``, ``ori_shape``, ``img_shape``, ...)."""

    @property
    def gt_sem_seg(self) -> PixelData:
        return self._gt_sem_seg

    @gt_sem_seg.setter
    def gt_sem_seg(self, value: PixelData) -> None:
        self.set_field(value, '_gt_sem_seg', dtype=PixelData)

    @gt_sem_seg.deleter
    def gt_sem_seg(self) -> None:
        del self._gt_sem_seg

    @property
    def pred_sem_seg(self) -> PixelData:
        return self._pred_sem_seg

    @pred_sem_seg.setter
    def pred_sem_seg(self, value: PixelData) -> None:
        self.set_field(value, '_pred_sem_seg', dtype=PixelData)

    @pred_sem_seg.deleter
    def pred_sem_seg(self) -> None:
        del self._pred_sem_seg

    @property
    def seg_logits(self) -> PixelData:
        return self._seg_logits

    @seg_logits.setter
    def seg_logits(self, value: PixelData) -> None:
        self.set_field(value, '_seg_logits', dtype=PixelData)

    @seg_logits.deleter
    def seg_logits(self) -> None:
        del self._seg_logits
