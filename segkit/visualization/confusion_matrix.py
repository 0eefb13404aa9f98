"""A confusion matrix as a labelled heat map (rows: ground truth, columns: prediction)."""
from typing import Sequence

import numpy as np

__all__ = ['plot_confusion_matrix', 'row_normalized']


def row_normalized(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum, in percent (the diagonal is then per-class recall); empty rows stay 0."""
    matrix = np.asarray(matrix, np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix * 100, totals, out=np.zeros_like(matrix), where=totals > 0)


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], out_file: str, *,
                          normalize: bool = False, title: str = 'Confusion matrix') -> None:
    """Write ``matrix`` (raw pixel counts) as a PNG heat map with class names on both axes.

    ``normalize=True`` shows :func:`row_normalized` percentages on a linear scale; otherwise raw counts on a log
    colour scale (the large classes would wash out the rest on a linear one). Cells carry their values while the
    matrix is small enough to read them (30 classes or fewer).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    matrix = np.asarray(matrix)
    k = len(class_names)
    if matrix.shape != (k, k):
        raise ValueError(f'confusion matrix is {matrix.shape} but there are {k} class names')
    values = row_normalized(matrix) if normalize else matrix.astype(np.float64)
    side = max(6.0, 0.4 * k + 3)
    fig, ax = plt.subplots(figsize=(side, side), dpi=100)
    norm = None if normalize else LogNorm(vmin=1, vmax=max(values.max(), 2))
    shown = values if normalize else np.where(values > 0, values, np.nan)
    image = ax.imshow(shown, cmap='Blues', norm=norm, vmin=0 if normalize else None,
                      vmax=100 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='% of the row' if normalize else 'pixels')
    font = 8 if k <= 30 else 5
    ax.set_xticks(range(k), labels=class_names, rotation=90, fontsize=font)
    ax.set_yticks(range(k), labels=class_names, fontsize=font)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title + (' (row-normalised, %)' if normalize else ' (pixels)'))
    if k <= 30:
        high = np.nanmax(values) if values.size else 0
        for i in range(k):
            for j in range(k):
                if values[i, j] > 0:
                    text = f'{values[i, j]:.1f}' if normalize else f'{values[i, j]:.2g}'
                    light = values[i, j] > (50 if normalize else high ** 0.5)
                    ax.text(j, i, text, ha='center', va='center', fontsize=6, color='white' if light else 'black')
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)
