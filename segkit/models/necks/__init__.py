"""Necks: modules between the backbone and the heads."""
from .cascaded_blocks import CascadedBlocks

__all__ = ['CascadedBlocks']
