"""Drawing helpers: class palettes and label-map overlays."""
from .confusion_matrix import plot_confusion_matrix
from .overlay import draw_overlay, draw_side_by_side
from .palette import generate_palette, get_palette

__all__ = ['draw_overlay', 'draw_side_by_side', 'generate_palette', 'get_palette', 'plot_confusion_matrix']
