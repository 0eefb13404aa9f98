"""Drawing helpers: class palettes, label-map overlays, legends, palette PNGs and confusion-matrix heat maps."""
from .confusion_matrix import plot_confusion_matrix
from .display import display_image
from .label_png import read_label_png, write_label_png
from .legend import add_legend, add_titles, legend_entries
from .overlay import draw_overlay, draw_side_by_side
from .palette import generate_palette, get_palette

__all__ = ['add_legend', 'add_titles', 'display_image', 'draw_overlay', 'draw_side_by_side', 'generate_palette',
           'get_palette', 'legend_entries', 'plot_confusion_matrix', 'read_label_png', 'write_label_png']
