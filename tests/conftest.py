"""Shared fixtures: paths of the read-only data in ../shared/data (absent on users' machines)."""
import os.path as osp

import pytest
from mmengine.registry import DefaultScope

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data')


def shared_path(*parts: str) -> str:
    """Path under ../shared/data, or skip the calling test when it is absent."""
    path = osp.join(SHARED_DATA, *parts)
    if not osp.exists(path):
        pytest.skip(f'{path} is absent (the shared data sits beside the repository only on '
                    'the developers\' and CI machines)')
    return path


@pytest.fixture
def official_weights() -> str:
    return shared_path('sgz_official', 'Epoch99.pth')


@pytest.fixture(autouse=True)
def _isolated_default_scope():
    """Each test starts with the default scopes that existed before it: a test that runs an
    mmdet/mmseg config leaves its scope current, which would redirect later unscoped builds."""
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
