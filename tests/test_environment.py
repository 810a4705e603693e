"""The environment check that every command runs first, on a mismatched torch/torchvision pair, simulated: a torchvision
of the wrong release, and one whose compiled operators do not register (the report: torch 2.13 from the CPU index with
torchvision 0.28 from PyPI died at its first save with `operator torchvision::nms does not exist`). Each ends in one
line naming the fix, exit status 2, before anything is written."""
import json, subprocess, sys
import pytest
from conftest import REPO, tiny_args, cli

FAKES = {'old': "__version__ = '0.15.2'\n",
         'broken': "raise RuntimeError('operator torchvision::nms does not exist')\n"}

def fake_torchvision(tmp_path, kind:str) -> dict:
    "The environment of a process whose `import torchvision` finds a stand-in of `kind` first."
    pkg = tmp_path / kind / 'torchvision'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text(FAKES[kind])
    import os
    return {'PYTHONPATH': os.pathsep.join([str(tmp_path / kind), str(REPO), *filter(None, [os.environ.get('PYTHONPATH')])])}

@pytest.mark.parametrize('kind, said', [('old', 'torchvision 0.15.2 is not built for torch'),
                                        ('broken', 'RuntimeError: operator torchvision::nms does not exist')])
def test_msls_train_names_the_fix_before_writing_anything(tmp_path, kind, said):
    r = cli(*tiny_args(tmp_path / 'runs', 'mismatch'), '-ne', '1', env=fake_torchvision(tmp_path, kind), timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('python -m msls_nb.run_dcgan: error: '), lines
    assert said in lines[0] and 'install a matching pair: pip install --force-reinstall torch==' in lines[0], lines[0]
    assert not (tmp_path / 'runs').exists()

def test_train_notebook_stops_in_its_first_cell(tmp_path, papermill_env):
    env = {**papermill_env, **fake_torchvision(tmp_path, 'broken')}
    env['PYTHONPATH'] += ':' + papermill_env['PYTHONPATH']          # the stand-in first, then papermill's engine
    out = tmp_path / 'out.ipynb'
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO / 'nbs' / 'train.ipynb'), str(out), '-p', 'root',
                        str(tmp_path / 'runs'), '--no-progress-bar'], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('UserError: torchvision ') and 'does not load with torch' in last and 'pip install' in last, last
    assert 'Traceback' not in r.stderr and not (tmp_path / 'runs').exists()
    code = [c for c in json.loads(out.read_text())['cells'] if c['cell_type'] == 'code']
    failed = next(c for c in code if any(o.get('output_type') == 'error' for o in c['outputs']))
    assert 'check_environment(device)' in ''.join(failed['source'])   # the cell after the parameters, first thing
