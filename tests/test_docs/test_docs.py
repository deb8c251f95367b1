"""Docs that cannot rot: links, images, named tools and configs exist, configs parse, and the
README's Python quick starts run."""
import glob
import os
import os.path as osp
import re

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

DOCS = sorted([osp.join(REPO_ROOT, 'README.md')] +
              glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'), recursive=True) +
              glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md')))
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
PATH = re.compile(r'(?<![\w./-])((?:tools|configs)/[\w./-]+\.(?:py|sh|yml))')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def slug(heading):
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r'[`*_]', '', heading.strip().lower())
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(path):
    return {slug(line.lstrip('#')) for line in read(path).splitlines() if line.startswith('#')}


def broken_links(path):
    """Relative links and images of a markdown file whose target (or #anchor) is missing."""
    broken = []
    text = re.sub(r'```.*?```', '', read(path), flags=re.S)  # code blocks hold no links
    for target in LINK.findall(text):
        if re.match(r'[a-z]+://|mailto:', target):
            continue
        file, _, anchor = target.partition('#')
        resolved = osp.normpath(osp.join(osp.dirname(path), file)) if file else path
        if not osp.exists(resolved):
            broken.append(target)
        elif anchor and resolved.endswith('.md') and anchor not in anchors(resolved):
            broken.append(target)
    return broken


def named_paths(path):
    """tools/... and configs/... files a document names (commands, tables, links)."""
    return sorted(set(PATH.findall(read(path))))


@pytest.mark.parametrize('path', DOCS, ids=[osp.relpath(p, REPO_ROOT) for p in DOCS])
def test_links_and_images_resolve(path):
    assert broken_links(path) == []


@pytest.mark.parametrize('path', DOCS, ids=[osp.relpath(p, REPO_ROOT) for p in DOCS])
def test_named_tools_and_configs_exist(path):
    missing = [p for p in named_paths(path) if not osp.exists(osp.join(REPO_ROOT, p))
               and not osp.exists(osp.join(REPO_ROOT, 'configs', p.split('/', 1)[-1]))]
    assert missing == []


def test_named_configs_parse():
    from mmengine.config import Config
    configs = sorted({p for doc in DOCS for p in named_paths(doc)
                      if p.startswith('configs/') and p.endswith('.py')})
    assert len(configs) >= 10
    for config in configs:
        needs = 'mmdet' if '/det/' in config else 'mmseg' if '/seg/' in config else None
        if needs and pytest.importorskip(f'{needs}.models') is None:
            continue
        Config.fromfile(osp.join(REPO_ROOT, config))


def test_the_checker_finds_a_broken_link_and_path(tmp_path):
    doc = tmp_path / 'doc.md'
    doc.write_text('[ok](doc.md) [gone](missing.md) [anchor](doc.md#nope) '
                   '![img](pic.png)\n# Title\n`tools/no_such_tool.py`\n')
    assert broken_links(str(doc)) == ['missing.md', 'doc.md#nope', 'pic.png']
    assert named_paths(str(doc)) == ['tools/no_such_tool.py']


def test_readme_is_a_short_front_page():
    text = read(osp.join(REPO_ROOT, 'README.md'))
    assert len(text.splitlines()) <= 200
    assert not re.search(r'\b\d\d:\d\d\b', text), 'clock times belong nowhere in the README'
    assert 'load average' not in text and 'this session' not in text
    quick = text[text.index('## Quick start'):]
    for start in ('**1.', '**2.', '**3.', '**4.', '**5.'):
        assert start in quick


def readme_blocks(language):
    text = read(osp.join(REPO_ROOT, 'README.md'))
    quick = text[text.index('## Quick start'):text.index('## Documentation')]
    return re.findall(rf'```{language}\n(.*?)```', quick, re.S)


def test_readme_python_api_quick_start_runs(tmp_path, monkeypatch):
    import cv2
    block = next(b for b in readme_blocks('python') if 'init_enhancer' in b)
    os.makedirs(tmp_path / 'demo')
    dark = (np.random.default_rng(0).random((40, 56, 3)) * 40).astype(np.uint8)
    cv2.imwrite(str(tmp_path / 'demo' / 'dark.png'), dark)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block, 'README.md (Python API quick start)', 'exec'), namespace)
    assert namespace['out'].shape == (40, 56, 3) and namespace['out'].mean() > dark.mean()


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_readme_config_quick_starts_build(task, tmp_path):
    pytest.importorskip('mmdet.models' if task == 'det' else 'mmseg.models')
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    marker = 'LowLightDetDataPreprocessor' if task == 'det' else 'LowLightSegDataPreProcessor'
    block = next(b for b in readme_blocks('python') if f"'mmlowlight.{marker}'" in b)
    path = tmp_path / f'my_{task}_config.py'
    path.write_text(block)
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    assert preprocessor.freeze and preprocessor.enhancer.denoiser is not None
