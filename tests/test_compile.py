"""torch.compile with channels_last: the path that crashed in the first backward on CUDA (inductor's stride check).

The CPU's convolution kernels return the layouts inductor predicts, so the CUDA crash does not happen here by itself:
`layout_mismatch_worker.py` makes the CPU backend disagree with inductor as cuDNN does, and reproduces it."""
import json, subprocess, sys
from conftest import REPO, cli, tiny_args

def test_compile_survives_a_backend_that_returns_other_gradient_layouts():
    r = subprocess.run([sys.executable, str(REPO / 'tests' / 'layout_mismatch_worker.py')], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # the plain nn layers: the crash reported on CUDA, reproduced
    assert out['plain']['error'].startswith('AssertionError: expected size'), out
    # the layout-stable convolutions: compiled gradients equal eager ones, and build_gan keeps the compiled step
    assert out['stable']['rel_diff'] < 1e-4, out
    assert out['train'] == dict(compiled=True, finite=True), out

def test_compile_with_channels_last_trains_compiled_on_the_cpu(tmp_path):
    r = cli(*tiny_args(tmp_path, 'compiled', compile=True, channels_last=True), '-ne', '1', '--logging', 'False', '--device', 'cpu',
            timeout=600, check=0)
    assert 'compiled=True' in r.stdout and 'channels_last=True' in r.stdout, r.stdout[:2000]
    assert 'torch.compile failed' not in r.stdout + r.stderr
