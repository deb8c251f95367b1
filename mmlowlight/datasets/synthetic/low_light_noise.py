"""A physical low-light capture model: turn a well-exposed 8-bit image into an underexposed one.

The image is taken back to (approximately) linear light, the exposure is cut, the sensor's noise
is added where it arises, in photo-electrons, and the result is re-encoded to 8 bits:

1. linearise: ``L = (I / 255) ** gamma`` (a display gamma standing in for the camera tone curve,
   as in the "unprocessing" of Brooks et al., 2019), or with ``transfer='srgb'`` the inverse of
   the sRGB transfer function (IEC 61966-2-1), which cameras encode to;
2. expose: ``S = k * L * full_well`` electrons, ``k`` the exposure factor (< 1) and
   ``full_well`` the electrons a pixel collects for ``L = 1`` at the original exposure;
3. noise: ``E ~ Poisson(S) + Normal(0, read_noise**2)``, the Poissonian-Gaussian model of raw
   sensor data (Foi et al., "Practical Poissonian-Gaussian noise modeling and fitting for
   single-image raw-data", IEEE TIP 2008; Healey & Kondepudy, IEEE TPAMI 1994): shot noise with
   variance equal to the signal, plus signal-independent read noise;
4. re-encode without gain (the photo stays dark): ``I' = round(255 * clip(E / full_well, 0, 1)
   ** (1 / gamma))``, i.e. 8-bit quantisation after the tone curve (or the sRGB transfer
   function).

So in linear light the mean falls by ``k`` (up to clipping and quantisation) and the noise
variance grows linearly with the signal: ``Var[E] = S + read_noise**2``. Channels are treated as
independent pixels (no Bayer mosaic or demosaicking); the model is channel-order agnostic.

The two transfer functions differ where dark captures lie. Under the power law a capture is an
exposure change of the well-exposed image in the encoded values too (one gain undoes it); the
sRGB function is linear below 0.0031 (8-bit level 10), so a dark capture's shadows sit on that
steeper segment and come out darker, relative to its mid-tones, than the power law makes them.
The real LOL pairs show that relation: their references hold about half of the dark capture's
log contrast (``tools/analysis/tone_relation.py``: slope 0.56), pairs made with the sRGB
function 0.66, with the power law 0.98.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = ['LowLightSimulator', 'TRANSFERS', 'srgb_decode', 'srgb_encode']

#: The transfer functions between linear light and the 8-bit encoding.
TRANSFERS = ('power', 'srgb')


# The sRGB transfer function (IEC 61966-2-1), four lines of numpy: the libraries that have it
# (scikit-image, kornia) keep it inside colour-space conversions or on torch tensors.
def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values in [0, 1] (linear below 0.0031308)."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * np.maximum(linear, 0.0031308)**(1 / 2.4) - 0.055)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light in [0, 1] (the inverse of
    :func:`srgb_encode`)."""
    encoded = np.clip(encoded, 0.0, 1.0)
    return np.where(encoded <= 0.04045, encoded / 12.92,
                    ((np.maximum(encoded, 0.04045) + 0.055) / 1.055)**2.4)


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
        gamma (float): Exponent of the tone curve used to linearise and re-encode (with
            ``transfer='power'``). Defaults to 2.2.
        transfer (str): ``'power'`` (``x ** (1 / gamma)``) or ``'srgb'`` (the sRGB transfer
            function, linear near black; see the module's notes). Defaults to ``'power'``.
    """
    exposure_range: Tuple[float, float] = (0.02, 0.06)
    full_well: float = 8000.0
    read_noise: float = 3.0
    gamma: float = 2.2
    transfer: str = 'power'

    def __post_init__(self) -> None:
        low, high = self.exposure_range
        if not 0 < low <= high <= 1:
            raise ValueError(f'exposure_range must satisfy 0 < low <= high <= 1, got '
                             f'{self.exposure_range}')
        if self.full_well <= 0 or self.read_noise < 0 or self.gamma <= 0:
            raise ValueError('full_well and gamma must be > 0 and read_noise >= 0, got '
                             f'{self.full_well}, {self.gamma}, {self.read_noise}')
        if self.transfer not in TRANSFERS:
            raise ValueError(f'transfer must be one of {TRANSFERS}, got {self.transfer!r}')

    def encode(self, linear: np.ndarray) -> np.ndarray:
        """Linear light -> encoded values, both in [0, 1] (``linear`` is clipped to it)."""
        if self.transfer == 'srgb':
            return srgb_encode(linear)
        return np.clip(linear, 0.0, 1.0)**(1.0 / self.gamma)

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """Encoded values in [0, 1] -> linear light (the inverse of :meth:`encode`)."""
        if self.transfer == 'srgb':
            return srgb_decode(encoded)
        return np.clip(encoded, 0.0, 1.0)**self.gamma

    def encode_uint8(self, linear: np.ndarray) -> np.ndarray:
        """Linear light -> 8-bit image (values above 1 clip to 255)."""
        return np.round(self.encode(linear) * 255.0).astype(np.uint8)

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
        linear = self.decode(image.astype(np.float64) / 255.0)
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
        return self.encode_uint8(electrons / self.full_well)

    def exposure_for_level(self, linear: np.ndarray, level: float) -> float:
        """The exposure factor at which the capture's mean 8-bit level is about ``level``.

        Noise-free and ignoring the clipping of lights, the power law's encoded mean is
        ``255 * k ** (1 / gamma) * mean(min(linear, 1) ** (1 / gamma))``, solved for ``k``;
        the sRGB function's (not a power of ``k``) is solved by bisection on ``log k``.

        Args:
            linear (np.ndarray): The scene in linear light.
            level (float): Target mean grey level in (0, 255).

        Returns:
            float: ``k`` in (0, 1].
        """
        if not 0 < level < 255:
            raise ValueError(f'level must be in (0, 255), got {level}')
        linear = np.clip(linear, 0, 1)
        encoded_mean = float(np.mean(self.encode(linear))) * 255.0
        if encoded_mean <= 0:
            return 1.0
        if self.transfer == 'power':
            return float(min(1.0, (level / encoded_mean)**self.gamma))
        if encoded_mean <= level:
            return 1.0
        # The encoded mean grows with k; 32 halvings of [1e-9, 1] in log k: ~5e-9 relative.
        low, high = float(np.log(1e-9)), 0.0
        for _ in range(32):
            middle = (low + high) / 2
            if float(np.mean(self.encode(linear * float(np.exp(middle))))) * 255.0 > level:
                high = middle
            else:
                low = middle
        return float(np.exp((low + high) / 2))
