"No error lines that are not errors: a profiled tiny run on the CPU prints no kineto 'ERROR' and no warnings."
from conftest import cli, tiny_args

def test_profiled_cpu_run_prints_no_error_or_warning_lines(tmp_path):
    r = cli(*tiny_args(tmp_path, 'profiled', limit=16), '-ne', '1', '--logging', 'False', '--profile', 'True', check=0)
    noisy = [l for l in (r.stdout + r.stderr).splitlines() if 'ERROR' in l or 'Warning' in l]
    assert noisy == [], '\n'.join(noisy)
    assert list((tmp_path / 'profiled' / 'events').glob('*.pt.trace.json*'))   # the trace is still written
