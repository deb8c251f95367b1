import os

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from mmlowlight.apis.image_io import (ImageReadError, _orient, atomic_output, atomic_write_bytes,
                                      encode_image, read_image)


def _random(shape, dtype=np.uint8, seed=0):
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(0, info.max, shape, dtype=dtype)


@pytest.mark.parametrize('orientation', range(1, 9))
def test_orientation_matches_pillow(orientation, tmp_path):
    pixels = _random((4, 6, 3))
    pil = Image.fromarray(pixels)
    exif = pil.getexif()
    exif[0x0112] = orientation
    pil.info['exif'] = exif.tobytes()
    expected = np.array(ImageOps.exif_transpose(pil))
    np.testing.assert_array_equal(_orient(pixels, orientation), expected)
    path = str(tmp_path / 'rot.png')
    Image.fromarray(pixels).save(path, exif=exif)
    np.testing.assert_array_equal(read_image(path).rgb, expected)


def test_modes_and_depths_round_trip(tmp_path):
    rgb16 = _random((5, 7, 4), np.uint16)
    cv2.imwrite(str(tmp_path / 'c16.png'), rgb16)
    image = read_image(str(tmp_path / 'c16.png'))
    assert image.rgb.dtype == np.uint16 and image.alpha is not None and not image.grayscale
    np.testing.assert_array_equal(image.rgb, rgb16[..., 2::-1])
    decoded = cv2.imdecode(np.frombuffer(encode_image(image, '.png'), np.uint8), -1)
    np.testing.assert_array_equal(decoded, rgb16)

    grey16 = _random((5, 7), np.uint16)
    cv2.imwrite(str(tmp_path / 'g16.png'), grey16)
    image = read_image(str(tmp_path / 'g16.png'))
    assert image.grayscale and image.rgb.dtype == np.uint16
    decoded = cv2.imdecode(np.frombuffer(encode_image(image, '.png'), np.uint8), -1)
    np.testing.assert_array_equal(decoded, grey16)

    Image.fromarray(_random((5, 7, 2)), 'LA').save(tmp_path / 'la.png')
    image = read_image(str(tmp_path / 'la.png'))
    assert image.grayscale and image.alpha is not None
    out = tmp_path / 'la_out.png'
    out.write_bytes(encode_image(image, '.png'))
    with Image.open(out) as pil:
        assert pil.mode == 'LA'


def test_jpeg_quality_and_alpha_dropped(tmp_path):
    Image.fromarray(_random((16, 16, 4)), 'RGBA').save(tmp_path / 'a.png')
    image = read_image(str(tmp_path / 'a.png'))
    path = tmp_path / 'a.jpg'
    path.write_bytes(encode_image(image, '.jpg'))
    with Image.open(path) as pil:
        assert pil.format == 'JPEG' and pil.mode == 'RGB'
        # Quality 95 quantisation tables hold small values (quality 75 has entries up to 99+).
        assert max(pil.quantization[0]) <= 12


@pytest.mark.parametrize('content, match', [
    (b'', 'empty file'),
    (b'just some text', 'cannot decode'),
])
def test_bad_files_named(tmp_path, content, match):
    path = tmp_path / 'bad.png'
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=f'bad.png: {match}'):
        read_image(str(path))


def test_truncated_and_directory(tmp_path):
    Image.fromarray(_random((64, 64, 3))).save(tmp_path / 'ok.jpg', quality=95)
    data = (tmp_path / 'ok.jpg').read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[:len(data) // 2])
    with pytest.raises(ImageReadError, match='cut.jpg: .*truncated'):
        read_image(str(tmp_path / 'cut.jpg'))
    (tmp_path / 'x.jpg').mkdir()
    with pytest.raises(ImageReadError, match='x.jpg: is a directory'):
        read_image(str(tmp_path / 'x.jpg'))


def test_atomic_output_leaves_nothing_on_error(tmp_path):
    target = str(tmp_path / 'sub' / 'out.png')
    stale = tmp_path / 'sub' / '.out.part-999999.png'
    os.makedirs(stale.parent)
    stale.write_bytes(b'half')
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            with open(temporary, 'wb') as f:
                f.write(b'partial')
            raise RuntimeError('crash')
    assert os.listdir(tmp_path / 'sub') == []  # neither output, temporary nor stale leftover
    atomic_write_bytes(target, b'data')
    assert os.listdir(tmp_path / 'sub') == ['out.png']
