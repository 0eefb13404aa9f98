"""Gaussian filtering in a d-dimensional feature space on the permutohedral lattice.

Adams, Baek & Davis, "Fast High-Dimensional Filtering Using the Permutohedral Lattice", Eurographics 2010; used
for the fully connected CRF by Krahenbuhl & Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian
Edge Potentials", NIPS 2011, section 4.

Filtering ``out_i = sum_j exp(-|f_i - f_j|^2 / 2) v_j`` over all N points directly costs O(N^2). The lattice
does it in O(N d C + M d C) per filtering, for M lattice points (M <= N (d+1), far fewer for smooth images) and C
value channels, after building the lattice once in O(N d^2) plus a sort, in three steps (paper section 3):

* **splat**: each feature vector, lifted onto the hyperplane ``x . 1 = 0`` of R^(d+1), lies in one simplex of
  the lattice; its value is spread to the simplex's d+1 vertices with barycentric weights;
* **blur**: along each of the d+1 lattice directions the vertex values are convolved with [1/2, 1, 1/2]
  (the separable approximation of the Gaussian on the lattice);
* **slice**: each point reads back the vertex values with the same barycentric weights.

Features are scaled by ``sqrt(2/3) (d+1)`` before lifting, as in the paper, so that the blurred lattice matches a
Gaussian of unit standard deviation per feature dimension. The result is the Gaussian filter *up to a smooth
per-point gain*: the lattice kernel is a piecewise-linear, slightly anisotropic stand-in for the Gaussian
(its support ends a few lattice steps out and its shape depends on where a point sits in its simplex). Callers
therefore normalise with the filtered constant (``filter(ones)``), which is what the CRF does. Measured against
the exact O(N^2) filter on small images (tests/test_crf.py), normalised outputs agree to a few percent of the
value range.

:class:`PermutohedralLattice` builds the lattice (hashing of the vertices, blur neighbours) once for a set of
features and then filters any number of value arrays with it: the CRF's bilateral kernel depends only on the
image, so one lattice serves every mean-field iteration. Everything is vectorised torch. Instead of a hash
table, each integer lattice point is encoded as one int64 (mixed radix over its coordinates, with room for the
neighbours), so the simplex vertices and the blur neighbours of a point are its code plus fixed offsets; the
lattice is then ``torch.unique`` of the vertex codes and neighbours are found by ``searchsorted``. The three
steps are stored as sparse CSR matrices (splat M x N, one M x M blur per direction, slice N x M). The codes
must fit in 63 bits, which holds for any sensible standard deviations (CamVid at the DeepLab defaults uses 43);
features spread over absurdly many lattice steps give a clear error instead.
"""
import math
import warnings

import torch


def _elevation_matrix(d: int) -> torch.Tensor:
    """(d, d+1) matrix lifting scaled features onto the plane ``x . 1 = 0`` (Adams et al. section 3.1)."""
    scale = math.sqrt(2.0 / 3.0) * (d + 1)
    matrix = torch.zeros(d, d + 1, dtype=torch.float64)
    for i in range(d):
        s = scale / math.sqrt((i + 1) * (i + 2))
        matrix[i, :i + 1] = s          # feature i contributes +s to lifted coordinates 0..i ...
        matrix[i, i + 1] = -(i + 1) * s  # ... and -(i+1) s to coordinate i+1, so every lifted row sums to 0
    return matrix


def _csr(cols: torch.Tensor, values: torch.Tensor, counts: torch.Tensor, num_cols: int) -> torch.Tensor:
    """Sparse CSR matrix from row-major entries: ``counts[i]`` entries of row i, columns ascending within a row."""
    crow = torch.zeros(counts.numel() + 1, dtype=torch.long, device=cols.device)
    torch.cumsum(counts, 0, out=crow[1:])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # torch still calls its sparse CSR support 'beta'
        return torch.sparse_csr_tensor(crow, cols, values, (counts.numel(), num_cols), check_invariants=False)


def _blur_matrix(neighbours: torch.Tensor) -> torch.Tensor:
    """(M, M) sparse [1/2, 1, 1/2] along one direction from (2, M) neighbour indices (M where absent)."""
    m = neighbours.shape[1]
    cols = torch.cat([neighbours, torch.arange(m, device=neighbours.device)[None]]).t()  # (M, 3)
    cols, order = cols.sort(1)  # absent neighbours (index M) sort last
    values = torch.tensor([0.5, 0.5, 1.0], device=cols.device)[order]
    present = cols < m
    return _csr(cols[present], values[present], present.sum(1), m)


class PermutohedralLattice:
    """The lattice of ``features`` (N, d) (already divided by the kernel's standard deviations).

    ``filter(values)`` with ``values`` (N, C) returns (N, C) approximately ``sum_j exp(-|f_i-f_j|^2/2) v_j``,
    up to a smooth per-point gain (see the module docstring): normalise with ``filter(ones)``.
    """

    def __init__(self, features: torch.Tensor):
        if features.dim() != 2 or features.shape[0] == 0:
            raise ValueError(f'PermutohedralLattice: features must be (N, d), got shape {tuple(features.shape)}')
        n, d = features.shape
        device = features.device
        self.d = d
        feats = features.float()
        feats = feats - feats.min(0).values  # translation does not change the kernel; keeps the codes small
        elevated = feats @ _elevation_matrix(d).to(device, torch.float32)  # (N, d+1), rows sum to 0

        # Nearest lattice point of remainder 0 (coordinates multiples of d+1), Adams et al. section 3.1.
        down = torch.floor(elevated / (d + 1)) * (d + 1)
        rem0 = torch.where(elevated - down > (d + 1) / 2, down + (d + 1), down)
        excess = (rem0.sum(1) / (d + 1)).round().long()
        # Rank of each coordinate's residual (0 = largest; ties to the lower index), then shifted by the excess;
        # coordinates whose rank leaves 0..d move by one step of d+1 to get back onto the plane.
        order = torch.argsort(elevated - rem0, dim=1, descending=True, stable=True)
        rank = torch.empty_like(order).scatter_(1, order, torch.arange(d + 1, device=device).expand(n, -1))
        rank += excess[:, None]
        wrap = (rank < 0).long() - (rank > d).long()
        rank += (d + 1) * wrap
        rem0 += (d + 1) * wrap
        coord_of_rank = torch.empty_like(rank).scatter_(1, rank, torch.arange(d + 1, device=device).expand(n, -1))

        # Barycentric weights of the enclosing simplex.
        residual = (elevated - rem0) / (d + 1)
        bary = feats.new_zeros(n, d + 2)
        bary.scatter_add_(1, d - rank, residual)
        bary.scatter_add_(1, d + 1 - rank, -residual)
        bary[:, 0] += 1 + bary[:, d + 1]
        weights = bary[:, :d + 1]

        # Codes: mixed radix over the first d coordinates (the last follows from the zero sum), with a margin of
        # 2(d+1) on each side for the simplex vertices and their blur neighbours.
        key0 = rem0[:, :d].long()
        low = key0.min(0).values - 2 * (d + 1)
        span = key0.max(0).values - low + 2 * (d + 1) + 1
        if math.log2(math.prod(span.tolist())) > 62:
            raise ValueError(f'PermutohedralLattice: features span {span.tolist()} lattice steps, too many for 63-bit '
                             'codes; use larger standard deviations (they divide the features)')
        radix = torch.cat([torch.cumprod(torch.cat([span.new_ones(1), span[:-1]]), 0), span.new_zeros(1)])
        ones_code = radix.sum()  # code offset of adding 1 to every coordinate
        # Vertex k = rem0 + k on every coordinate, minus d+1 on those ranked above d-k; from vertex k to k+1 the
        # coordinate ranked d-k loses d+1 and all gain 1.
        code0 = ((key0 - low) * radix[:d]).sum(1)
        steps = ones_code - (d + 1) * radix[coord_of_rank[:, 1:].flip(1)]  # (N, d): vertex k -> k+1
        vertex_codes = torch.cat([code0[:, None], code0[:, None] + steps.cumsum(1)], 1)  # (N, d+1)
        codes, slots = torch.unique(vertex_codes, sorted=True, return_inverse=True)
        m = codes.numel()
        self.num_points = m

        # Neighbours along direction j: +d on coordinate j and -1 on the others, and the opposite.
        direction = (d + 1) * radix - ones_code  # (d+1,)
        neighbours = []
        for j in range(d + 1):
            wanted = torch.stack([codes + direction[j], codes - direction[j]])
            where = torch.searchsorted(codes, wanted).clamp_max(m - 1)
            neighbours.append(torch.where(codes[where] == wanted, where, m))
        self.blurs = [_blur_matrix(pair) for pair in neighbours]

        # Splat (M, N) and slice (N, M) with the barycentric weights.
        slots, by_slot = slots.sort(1)
        weights = weights.gather(1, by_slot)
        self.slice = _csr(slots.reshape(-1), weights.reshape(-1), torch.full_like(slots[:, 0], d + 1), m)
        by_point = torch.argsort(slots.reshape(-1), stable=True)
        self.splat = _csr(by_point // (d + 1), weights.reshape(-1)[by_point],
                          torch.bincount(slots.reshape(-1), minlength=m), n)

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """Splat (N, C) ``values`` onto the lattice, blur along every direction, slice back to (N, C)."""
        lattice = self.splat @ values
        for blur in self.blurs:
            lattice = blur @ lattice
        return self.slice @ lattice
