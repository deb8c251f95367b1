from .noise_adaptive_guided_filter import NoiseAdaptiveGuidedFilter, curve_gain, curve_lift

__all__ = ['NoiseAdaptiveGuidedFilter', 'curve_gain', 'curve_lift']
