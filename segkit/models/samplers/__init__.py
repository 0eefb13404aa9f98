"""Pixel samplers: which pixels a decode head's losses see (registered in ``segkit.registry.PIXEL_SAMPLERS``)."""
from .ohem_pixel_sampler import OHEMPixelSampler

__all__ = ['OHEMPixelSampler']
