from .motion_adaptive import (MotionAdaptiveTemporalDenoiser, estimate_noise_sigma,
                              motion_adaptive_step_torch)

__all__ = ['MotionAdaptiveTemporalDenoiser', 'motion_adaptive_step_torch', 'estimate_noise_sigma']
