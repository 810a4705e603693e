"torch.compile with channels_last, on the CPU: the path that crashed in the first backward on CUDA (inductor's stride check)."
from conftest import cli, tiny_args

def test_compile_with_channels_last_trains_compiled_on_the_cpu(tmp_path):
    r = cli(*tiny_args(tmp_path, 'compiled', compile=True, channels_last=True), '-ne', '1', '--logging', 'False', '--device', 'cpu',
            timeout=600, check=0)
    assert 'compiled=True' in r.stdout and 'channels_last=True' in r.stdout, r.stdout[:2000]
    assert 'torch.compile failed' not in r.stdout + r.stderr
