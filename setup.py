"""Installation script of mmlowlight (SGZ low-light enhancement for OpenMMLab)."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'mmlowlight', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def get_long_description() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='mmlowlight',
    version=get_version(),
    description='Semantic-guided zero-shot low-light enhancement (SGZ) for '
    'OpenMMLab detectors and segmentors',
    long_description=get_long_description(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    package_data={'mmlowlight': ['weights/*.pth', 'configs/**/*.py']},
    # Ranges, not pins: tools/install_env.sh pins the validated stack through
    # requirements/constraints*.txt. torchvision is optional by design (the
    # CPU environment has none; see README).
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10.0,<1.0',
        'mmcv>=2.0.0,<2.2.0',
        'numpy',
        'opencv-python',
        'pillow',
        'tqdm',
        'scikit-image',  # PSNR/SSIM metrics (mmlowlight.evaluation)
        'PyWavelets',  # skimage.restoration.estimate_sigma (tools/analysis/evaluate_enhancer.py)
        'numba>=0.60',  # fused CPU inference kernels (mmlowlight.ops)
        'onnxruntime>=1.18',  # fast thumbnail EFE on CPU (mmlowlight.ops)
        'av>=12',  # PyAV: video decode/encode with FFmpeg + libx264 bundled
        'setuptools<82',
    ],
    extras_require={
        'det': ['mmdet>=3.3.0,<3.4'],
        'seg': ['mmsegmentation>=1.2.2,<1.3', 'ftfy', 'regex'],
        'onnx': ['onnx', 'onnxscript', 'onnxruntime'],
        'tests': [
            'pytest', 'onnx', 'onnxscript', 'onnxruntime',
            # `make lint` (part of `make test`); versions pinned in requirements/constraints*.txt
            'flake8', 'isort', 'codespell',
            'mmdet>=3.3.0,<3.4', 'mmsegmentation>=1.2.2,<1.3', 'ftfy', 'regex'
        ],
    },
    zip_safe=False,
)
