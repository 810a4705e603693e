"""`msls-generate` as a separate process: a grid PNG and a SLERP GIF from a checkpoint, and one-line errors with exit status 2."""
import shutil, subprocess, sys
from pathlib import Path
import imageio.v3 as iio
import pytest

def msls_generate(*args):
    "Run the installed `msls-generate` console script (or the same entry point through python -c)."
    exe = shutil.which('msls-generate')
    cmd = [exe] if exe else [sys.executable, '-c', 'import sys; from msls_nb.slerp import generate_main; sys.exit(generate_main())']
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=120)

@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from msls_nb.explore import untrained_checkpoint
    return untrained_checkpoint(tmp_path_factory.mktemp('runs'), 'gen', img_size=32, nz=16, ngf=8)

def test_grid_and_gif(checkpoint, tmp_path):
    r = msls_generate(checkpoint, '-o', tmp_path / 'g.png', '--count', 9, '--seed', 4, '--device', 'cpu')
    assert r.returncode == 0 and r.stdout.strip() == str(tmp_path / 'g.png'), r.stderr
    assert iio.imread(tmp_path / 'g.png').shape == (3 * 34 + 2, 3 * 34 + 2, 3)
    r = msls_generate(checkpoint, '-o', tmp_path / 'w.gif', '--count', 4, '--frames', 5, '--keyframes', 3, '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert iio.imread(tmp_path / 'w.gif', index=None).shape == (2 * 5 + 1, 2 * 34 + 2, 2 * 34 + 2, 3)

def test_errors_are_one_line_exit_2(checkpoint, tmp_path):
    # (every other mistake is checked in-process in nbs/07_slerp.ipynb; each process here costs a torch import)
    for args, msg in [((tmp_path / 'missing.pt',), 'does not exist'), ((checkpoint, '--bogus'), 'unrecognized arguments')]:
        r = msls_generate(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and msg in lines[0], (args, r.returncode, r.stderr)
    assert list(tmp_path.iterdir()) == []

def test_conditional_labels(tmp_path):
    "A conditional checkpoint: --city/--time-of-day pick the condition; an unknown one is one line listing the known, exit 2."
    import torch
    from msls_nb.config import TrainingConfig
    from msls_nb.models import Generator
    from msls_nb.conditional import conditional_networks
    from msls_nb.checkpoint import save_slim_checkpoint
    G, _ = conditional_networks(Generator(nz=16, ngf=8, img_size=32), None, dict(city=['oslo', 'tokyo'], time_of_day=['day', 'night']))
    ckpt = save_slim_checkpoint(tmp_path / 'c' / 'slim_checkpoint_1.pt', 1, G,
                                TrainingConfig(img_size=32, nz=16, ngf=8, ndf=8, condition=['city', 'time_of_day']), torch.zeros(4, 16, 1, 1))
    r = msls_generate(ckpt, '-o', tmp_path / 'n.png', '--count', 4, '--city', 'tokyo', '--time-of-day', 'night', '--device', 'cpu')
    assert r.returncode == 0 and iio.imread(tmp_path / 'n.png').shape == (2 * 34 + 2, 2 * 34 + 2, 3), r.stderr
    r = msls_generate(ckpt, '-o', tmp_path / 'x.png', '--time-of-day', 'dusk', '--device', 'cpu')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "unknown time_of_day 'dusk'" in lines[0] and 'day, night' in lines[0], r.stderr
    assert not (tmp_path / 'x.png').exists()
