"""Post-processing of a segmentor's probabilities at the original image size (``test_cfg.crf``)."""
from .dense_crf import DenseCRF
from .permutohedral import PermutohedralLattice

__all__ = ['DenseCRF', 'PermutohedralLattice']
