"""tools/make_demo_input.py: the note beside the demo panels says the noise is on purpose (14.7)."""
import os.path as osp
import sys

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
import make_demo_input  # noqa: E402


def test_note_says_the_input_is_noisy_on_purpose(tmp_path, capsys):
    pytest.importorskip('skimage')
    note = tmp_path / 'enhanced' / 'README.txt'
    assert make_demo_input.main([str(tmp_path / 'input'), '--note', str(note),
                                 '--exposure', '0.05']) == 0
    text = ' '.join(note.read_text().split())
    assert 'on purpose to 5% of their light' in text
    assert 'shot noise' in text and 'read noise' in text and 'input (left) | enhanced' in text
    assert sorted(p.name for p in (tmp_path / 'input').iterdir()) == [
        'dark_astronaut.jpg', 'dark_chelsea.jpg', 'dark_coffee.jpg']
    assert str(note) in capsys.readouterr().out


def test_makefile_demo_writes_the_note():
    makefile = open(osp.join(REPO_ROOT, 'Makefile')).read()
    assert '--note $(DEMO_DIR)/enhanced/README.txt' in makefile
