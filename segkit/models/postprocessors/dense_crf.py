"""Fully connected CRF post-processing (DenseCRF) of DeepLab v1 (arXiv:1412.7062, section 4.2) and v2
(arXiv:1606.00915, section 3.3), after Krahenbuhl & Koltun, NIPS 2011.

The energy of a labelling x of the image's N pixels is ``sum_i U_i(x_i) + sum_{i<j} [x_i != x_j] k(i, j)`` with
the unary ``U_i(l) = -log P_i(l)`` from the network's softmax and, over *all* pixel pairs, the Potts penalty
weighted by two Gaussian kernels::

    k(i, j) = bi_w  * exp(-|p_i - p_j|^2 / (2 bi_xy_std^2) - |I_i - I_j|^2 / (2 bi_rgb_std^2))   # appearance
            + pos_w * exp(-|p_i - p_j|^2 / (2 pos_xy_std^2))                                     # smoothness

(p: pixel position, I: RGB colour). Mean-field inference repeats ``Q <- softmax(-U + sum_k w_k K_k Q)`` from
``Q = softmax(-U)``, each ``K_k`` the kernel's Gaussian filter. As in Krahenbuhl's released code (and so in the
DeepLab code the parameters below were tuned with) each filter is normalised symmetrically,
``K = D^-1/2 G D^-1/2`` with ``D = diag(G 1)``, so a weight means about the same at any image size.

The filters never form the N x N kernel:

* the smoothness kernel is separable in x and y, so it is applied *exactly* as two dense products with the
  H x H and W x W Gaussian matrices: O(N (H + W));
* the appearance kernel is a 5-D Gaussian, filtered on the permutohedral lattice (:mod:`.permutohedral`), built
  once per image and reused by every iteration: O(N) per iteration. Its approximation error is the lattice's
  (a few percent of the value range, see that module).

``backend='pydensecrf'`` runs Krahenbuhl's C++ code through the optional ``pydensecrf2`` package instead
(``pip install 'segkit[crf]'``; it compiles from source and needs a C++ compiler).

Defaults: 10 mean-field iterations and the smoothness kernel ``pos_w=3, pos_xy_std=3`` are the values both papers
fix (v1 section 5, v2 section 4.1: "w2 = 3 and sigma_gamma = 3"); the appearance kernel ``bi_w=4, bi_xy_std=67,
bi_rgb_std=3`` is the DeepLab-v2 ResNet-101 PASCAL VOC setting (as in kazuto1011/deeplab-pytorch's
``configs/voc12.yaml``; DeepLab's own MATLAB scripts list bi_w 3-5, bi_xy_std 50-95, bi_rgb_std 3-10 for the v1
models), cross-validated on VOC val images of about 500 pixels. Re-tune the appearance kernel for other data: the
papers searched w1 in 3-6, sigma_alpha in 30-100 and sigma_beta in 3-6 on 100 held-out images.
"""
import difflib
import math
import numbers
from typing import Union

import numpy as np
import torch

from segkit.registry import POSTPROCESSORS
from .permutohedral import PermutohedralLattice

_PARAMETERS = ('iterations', 'pos_w', 'pos_xy_std', 'bi_w', 'bi_xy_std', 'bi_rgb_std', 'backend')
_BACKENDS = ('lattice', 'pydensecrf')
_MIN_PROB = 1e-8  # unary of a zero probability: -log(1e-8) = 18.4, far above any pairwise message


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _import_pydensecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError:
        raise ImportError("DenseCRF(backend='pydensecrf') needs the optional package pydensecrf2: "
                          "pip install 'segkit[crf]' (or use backend='lattice', which needs nothing)") from None
    return dcrf


@POSTPROCESSORS.register_module()
class DenseCRF:
    """Mean-field inference of the fully connected CRF on softmax probabilities and the RGB image.

    Call it as ``crf(probs, image)`` with ``probs`` (C, H, W) class probabilities at the image's size and ``image``
    (H, W, 3) uint8 RGB; it returns the (C, H, W) CRF marginals (float32, on ``probs``' device). In a model:
    ``test_cfg=dict(crf=dict(type='DenseCRF', bi_w=5))`` or ``tools/test.py --crf``.

    Args:
        iterations: mean-field iterations (10 in the papers).
        pos_w, pos_xy_std: weight and spatial standard deviation (pixels) of the smoothness kernel.
        bi_w, bi_xy_std, bi_rgb_std: weight and spatial / colour standard deviations of the appearance kernel.
        backend: ``'lattice'`` (segkit's torch permutohedral lattice) or ``'pydensecrf'`` (optional package).
    """

    def __init__(self, *, iterations: int = 10, pos_w: float = 3., pos_xy_std: float = 3., bi_w: float = 4.,
                 bi_xy_std: float = 67., bi_rgb_std: float = 3., backend: str = 'lattice', **unknown):
        for key in unknown:
            close = difflib.get_close_matches(key, _PARAMETERS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ''
            raise TypeError(f"DenseCRF: unknown parameter '{key}'{hint}; known: {', '.join(_PARAMETERS)}")
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ValueError(f'DenseCRF: iterations must be an integer >= 0, got {iterations!r}')
        for key, value in dict(pos_w=pos_w, bi_w=bi_w).items():
            if not _is_number(value) or value < 0:
                raise ValueError(f'DenseCRF: {key} must be a finite weight >= 0, got {value!r}')
        for key, value in dict(pos_xy_std=pos_xy_std, bi_xy_std=bi_xy_std, bi_rgb_std=bi_rgb_std).items():
            if not _is_number(value) or value <= 0:
                raise ValueError(f'DenseCRF: {key} must be a standard deviation > 0, got {value!r}')
        if backend not in _BACKENDS:
            raise ValueError(f"DenseCRF: backend must be one of {_BACKENDS}, got {backend!r}")
        if backend == 'pydensecrf':
            _import_pydensecrf()  # fail when the model is built, not at the first test image
        self.iterations = iterations
        self.pos_w, self.pos_xy_std = float(pos_w), float(pos_xy_std)
        self.bi_w, self.bi_xy_std, self.bi_rgb_std = float(bi_w), float(bi_xy_std), float(bi_rgb_std)
        self.backend = backend

    def __repr__(self):
        args = ', '.join(f'{k}={getattr(self, k)!r}' for k in _PARAMETERS)
        return f'DenseCRF({args})'

    def __call__(self, probs: torch.Tensor, image: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
        image = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
        if probs.dim() != 3 or image.shape != (*probs.shape[1:], 3):
            raise ValueError(f'DenseCRF: expected probs (C, H, W) and an (H, W, 3) image of the same size, got '
                             f'probs {tuple(probs.shape)} and image {tuple(image.shape)}')
        logits = probs.float().clamp_min(_MIN_PROB).log()  # = -unary
        if self.backend == 'pydensecrf':
            return self._pydensecrf(logits, image).to(probs.device)
        return self._mean_field(logits, image.to(probs.device))

    # ------------------------------------------------------------------------------------------ lattice route
    def _mean_field(self, logits: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        c, h, w = logits.shape
        kernels = []
        if self.pos_w > 0:
            kernels.append((self.pos_w, _SpatialGaussian(h, w, self.pos_xy_std, logits.device)))
        if self.bi_w > 0:
            kernels.append((self.bi_w, _BilateralGaussian(image, self.bi_xy_std, self.bi_rgb_std)))
        q = logits.softmax(0)
        for _ in range(self.iterations if kernels else 0):
            message = logits.clone()
            for weight, kernel in kernels:
                message.add_(kernel(q), alpha=weight)
            q = message.softmax(0)
        return q

    # --------------------------------------------------------------------------------------- pydensecrf route
    def _pydensecrf(self, logits: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        dcrf = _import_pydensecrf()
        c, h, w = logits.shape
        crf = dcrf.DenseCRF2D(w, h, c)
        crf.setUnaryEnergy(np.ascontiguousarray(-logits.reshape(c, -1).cpu().numpy(), dtype=np.float32))
        if self.pos_w > 0:
            crf.addPairwiseGaussian(sxy=self.pos_xy_std, compat=self.pos_w)
        if self.bi_w > 0:
            rgb = np.ascontiguousarray(image.cpu().numpy().clip(0, 255).astype(np.uint8))
            crf.addPairwiseBilateral(sxy=self.bi_xy_std, srgb=self.bi_rgb_std, rgbim=rgb, compat=self.bi_w)
        q = np.asarray(crf.inference(self.iterations), dtype=np.float32)
        return torch.from_numpy(q.reshape(c, h, w))


class _SpatialGaussian:
    """Symmetrically normalised exact Gaussian filter of (C, H, W) maps over pixel positions, separable in y, x."""

    def __init__(self, h: int, w: int, std: float, device: torch.device):
        self.rows, self.cols = _gaussian_matrix(h, std, device), _gaussian_matrix(w, std, device)
        self.scale = (self.rows.sum(1)[:, None] * self.cols.sum(1)[None]).rsqrt()  # D^-1/2, (H, W)

    def __call__(self, q: torch.Tensor) -> torch.Tensor:
        return self.scale * (torch.matmul(self.rows, q * self.scale) @ self.cols)


class _BilateralGaussian:
    """Symmetrically normalised 5-D Gaussian filter of (C, H, W) maps over (x, y, r, g, b), on the lattice."""

    def __init__(self, image: torch.Tensor, xy_std: float, rgb_std: float):
        h, w = image.shape[:2]
        ys, xs = torch.meshgrid(torch.arange(h, device=image.device), torch.arange(w, device=image.device),
                                indexing='ij')
        features = torch.cat([torch.stack([xs, ys], -1).reshape(-1, 2).float() / xy_std,
                              image.reshape(-1, 3).float() / rgb_std], 1)
        self.lattice = PermutohedralLattice(features)
        gain = self.lattice.filter(features.new_ones(h * w, 1))
        self.scale = gain.clamp_min(1e-20).rsqrt()  # D^-1/2, (N, 1)

    def __call__(self, q: torch.Tensor) -> torch.Tensor:
        values = (q.reshape(q.shape[0], -1).t() * self.scale).contiguous()  # (N, C): rows for the sparse products
        return (self.lattice.filter(values) * self.scale).t().reshape(q.shape)


def _gaussian_matrix(n: int, std: float, device: torch.device) -> torch.Tensor:
    offsets = torch.arange(n, device=device, dtype=torch.float32)
    return torch.exp(-(offsets[:, None] - offsets[None]) ** 2 / (2 * std ** 2))
