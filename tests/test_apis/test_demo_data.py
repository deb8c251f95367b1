import numpy as np
from PIL import Image

from mmlowlight.apis.demo_data import synthesize_low_light, write_demo_inputs


def test_synthetic_low_light_is_dark_noisy_and_seeded():
    grey = np.full((64, 64, 3), 128, np.uint8)
    dark = synthesize_low_light(grey, exposure=0.03, seed=1)
    assert dark.dtype == np.uint8 and dark.shape == grey.shape
    # sRGB 128 -> linear 0.22 -> x0.03 -> sRGB ~ 0.2 * 128: dark, and grainy.
    assert 15 < dark.mean() < 40 and dark.std() > 1
    np.testing.assert_array_equal(dark, synthesize_low_light(grey, exposure=0.03, seed=1))


def test_demo_inputs_written(tmp_path):
    paths = write_demo_inputs(str(tmp_path))
    assert len(paths) == 3
    for path in paths:
        with Image.open(path) as pil:
            assert pil.format == 'JPEG' and np.array(pil).mean() < 50
