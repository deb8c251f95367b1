"""A physical low-light capture model: turn a well-exposed 8-bit image into an underexposed one.

The image is taken back to (approximately) linear light, the exposure is cut, the sensor's noise
is added where it arises, in photo-electrons, and the result is re-encoded to 8 bits:

1. linearise: ``L = (I / 255) ** gamma`` (a display gamma standing in for the camera tone curve,
   as in the "unprocessing" of Brooks et al., 2019);
2. expose: ``S = k * L * full_well`` electrons, ``k`` the exposure factor (< 1) and
   ``full_well`` the electrons a pixel collects for ``L = 1`` at the original exposure;
3. noise: ``E ~ Poisson(S) + Normal(0, read_noise**2)``, the Poissonian-Gaussian model of raw
   sensor data (Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for
   single-image raw-data", IEEE TIP 2008; Healey & Kondepudy, IEEE TPAMI 1994): shot noise with
   variance equal to the signal, plus signal-independent read noise;
4. re-encode without gain (the photo stays dark): ``I' = round(255 * clip(E / full_well, 0, 1)
   ** (1 / gamma))``, i.e. 8-bit quantisation after the tone curve.

So in linear light the mean falls by ``k`` (up to clipping and quantisation) and the noise
variance grows linearly with the signal: ``Var[E] = S + read_noise**2``. Channels are treated as
independent pixels (no Bayer mosaic or demosaicking); the model is channel-order agnostic.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = ['LowLightSimulator']


@dataclass(frozen=True)
class LowLightSimulator:
    """Darken 8-bit images with exposure scaling and Poissonian-Gaussian sensor noise.

    Args:
        exposure_range (tuple[float, float]): Exposure factors ``k`` are drawn log-uniformly
            from this range, one per image; both in (0, 1]. Defaults to (0.02, 0.06), which
            takes a scene of mean grey level 130 to about 28 (LOL's low-light images: ~15).
        full_well (float): Electrons collected for linear value 1 at the original exposure
            (sets the shot-noise level: fewer electrons, more noise). Defaults to 8000.
        read_noise (float): Standard deviation of the read noise in electrons. Defaults to 3.
        gamma (float): Exponent of the tone curve used to linearise and re-encode.
            Defaults to 2.2.
    """
    exposure_range: Tuple[float, float] = (0.02, 0.06)
    full_well: float = 8000.0
    read_noise: float = 3.0
    gamma: float = 2.2

    def __post_init__(self) -> None:
        low, high = self.exposure_range
        if not 0 < low <= high <= 1:
            raise ValueError(f'exposure_range must satisfy 0 < low <= high <= 1, got '
                             f'{self.exposure_range}')
        if self.full_well <= 0 or self.read_noise < 0 or self.gamma <= 0:
            raise ValueError('full_well and gamma must be > 0 and read_noise >= 0, got '
                             f'{self.full_well}, {self.gamma}, {self.read_noise}')

    def sample_exposure(self, rng: np.random.Generator) -> float:
        """Draw an exposure factor log-uniformly from ``exposure_range``."""
        low, high = np.log(self.exposure_range)
        return float(np.exp(rng.uniform(low, high)))

    def __call__(self, image: np.ndarray, rng: np.random.Generator,
                 exposure: Optional[float] = None) -> np.ndarray:
        """Simulate an underexposed, noisy capture of ``image``.

        Args:
            image (np.ndarray): (H, W) or (H, W, C) uint8 image, well exposed.
            rng (np.random.Generator): Source of the exposure draw and of the noise.
            exposure (float, optional): Exposure factor in (0, 1]; drawn with
                :meth:`sample_exposure` when None.

        Returns:
            np.ndarray: uint8 image of the same shape.

        Raises:
            TypeError: ``image`` is not uint8.
        """
        if image.dtype != np.uint8:
            raise TypeError(f'image must be uint8, got {image.dtype}')
        if exposure is None:
            exposure = self.sample_exposure(rng)
        linear = (image.astype(np.float64) / 255.0)**self.gamma
        return self.capture_linear(linear, rng, exposure)

    def capture_linear(self, linear: np.ndarray, rng: np.random.Generator,
                       exposure: float) -> np.ndarray:
        """Steps 2-4 on a scene given in linear light (values above 1 allowed).

        A scene rendered in linear light may hold light sources far brighter than the
        original exposure's white (lamps, headlights): they still clip after the exposure cut,
        as they do in a real night capture, while the rest of the scene is dark.

        Args:
            linear (np.ndarray): (H, W) or (H, W, C) float, >= 0; 1 is the original white.
            rng (np.random.Generator): Source of the noise.
            exposure (float): Exposure factor in (0, 1].

        Returns:
            np.ndarray: uint8 capture of the same shape.
        """
        if not 0 < exposure <= 1:
            raise ValueError(f'exposure must be in (0, 1], got {exposure}')
        electrons = rng.poisson(np.maximum(linear, 0) * exposure * self.full_well
                                ).astype(np.float64)
        electrons += rng.normal(0.0, self.read_noise, size=linear.shape)
        encoded = np.clip(electrons / self.full_well, 0.0, 1.0)**(1.0 / self.gamma)
        return np.round(encoded * 255.0).astype(np.uint8)

    def exposure_for_level(self, linear: np.ndarray, level: float) -> float:
        """The exposure factor at which the capture's mean 8-bit level is about ``level``.

        Noise-free and ignoring the clipping of lights, the encoded mean is
        ``255 * k ** (1 / gamma) * mean(min(linear, 1) ** (1 / gamma))``; solved for ``k``.

        Args:
            linear (np.ndarray): The scene in linear light.
            level (float): Target mean grey level in (0, 255).

        Returns:
            float: ``k`` in (0, 1].
        """
        if not 0 < level < 255:
            raise ValueError(f'level must be in (0, 255), got {level}')
        encoded_mean = float(np.mean(np.clip(linear, 0, 1)**(1.0 / self.gamma))) * 255.0
        if encoded_mean <= 0:
            return 1.0
        return float(min(1.0, (level / encoded_mean)**self.gamma))
