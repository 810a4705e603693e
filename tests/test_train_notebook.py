"""nbs/train.ipynb run by papermill on a real kernel: tiny parameters, a resume, and mistakes that stop it in the
validation cell with one line: a bad value, an unknown parameter name."""
import json, re, subprocess, sys
import papermill as pm
import pytest
import torch
from msls_nb.config import DEFAULT_RECIPE, RECIPES
from conftest import REPO

NB = REPO / 'nbs' / 'train.ipynb'
TINY = dict(preset='cpu-32', ngf=8, ndf=8, nz=128, img_size=32, batch_size=8, train_params='{"limit": 32}',
            log_frequency=2, logging=False)   # nz=128: TrainingConfig's default, must win over cpu-32's 64 when given
PARAMETERS = ['name', 'root', 'log_frequency', 'save_frequency', 'nc', 'nz', 'ngf', 'ndf', 'lr', 'beta1', 'beta2',
              'batch_size', 'img_size', 'weight_decay', 'd_norm', 'd_mbstd', 'g_upsample', 'train_params', 's_epoch',
              'n_epoch', 'minutes', 'dataroot', 'logging', 'profile', 's3_bucket', 'preset', 'seed', 'device']

def run(out, **params):
    return pm.execute_notebook(str(NB), str(out), parameters=params, kernel_name='python3', cwd=str(REPO), progress_bar=False)

def outputs(nb, mime):
    return [o for c in nb['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []) if mime in o.get('data', {})]

def test_train_notebook_runs_reports_and_resumes(tmp_path):
    nb = run(tmp_path / 'out.ipynb', name='nb', root=str(tmp_path / 'runs'), n_epoch=2, **TINY)
    assert not [o for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert len(outputs(nb, 'image/png')) >= 3                         # loss curves, real vs generated, SLERP strip
    assert outputs(nb, 'text/markdown') and outputs(nb, 'text/html') + outputs(nb, 'image/gif')   # summary; progress animation
    summary = ''.join(''.join(o['data']['text/markdown']) for o in outputs(nb, 'text/markdown'))
    assert f"| recipe | recipe {DEFAULT_RECIPE}, augment 'translation'" in summary   # the report says which recipe ran
    assert f"g_upsample {RECIPES[DEFAULT_RECIPE]['g_upsample']}" in summary           # and the networks it built
    text = json.dumps(nb)
    assert 'preset cpu-32' in text and 'images/s' in text
    run_dir = tmp_path / 'runs' / 'nb'
    assert {'checkpoint_1.pt', 'checkpoint_2.pt', 'slim_checkpoint_2.pt'} <= {p.name for p in run_dir.iterdir()}
    assert (run_dir / 'videos' / 'progress.gif').is_file() and (run_dir / 'figures' / 'losses.png').is_file()
    run(tmp_path / 'resumed.ipynb', name='nb', root=str(tmp_path / 'runs'), n_epoch=1, s_epoch=-1, **TINY)
    ck = torch.load(run_dir / 'checkpoint_3.pt', weights_only=False)
    assert ck['epoch'] == 3 and len(ck['losses']['_G']) == 3 * 4 and len(ck['img_list']) == 3
    assert [ck['train_cfg'][k] for k in ('nz', 'ngf', 'img_size')] == [128, 8, 32]   # given values win over the preset

def test_bad_parameter_fails_fast_with_one_clear_line(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as e:
        run(tmp_path / 'bad.ipynb', name='bad', root=str(tmp_path / 'runs'), **{**TINY, 'img_size': 100})
    assert "'img_size' must be a power of two from 32 to 256" in str(e.value)
    nb = json.loads((tmp_path / 'bad.ipynb').read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    failed = next(i for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c['outputs']))
    assert 'make_configs' in ''.join(code[failed]['source'])               # the first cell after the parameters
    assert not (tmp_path / 'runs' / 'bad').exists()                        # nothing trained, nothing written
    error = next(o for o in code[failed]['outputs'] if o.get('output_type') == 'error')
    frames = [line for line in error['traceback'] if 'msls_nb' in line and '.py' in line]
    assert frames == [] and len(error['traceback']) <= 4, error['traceback']   # rule, header, the cell's frame, line

def test_unknown_parameter_name_is_refused_with_a_suggestion(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as e:
        run(tmp_path / 'typo.ipynb', name='typo', root=str(tmp_path / 'runs'), n_epochs=1, **TINY)
    assert "unknown parameter 'n_epochs' (did you mean 'n_epoch'?)" in e.value.evalue
    assert not (tmp_path / 'runs' / 'typo').exists()

def test_bad_value_ends_papermills_output_with_one_line(tmp_path, papermill_env):
    "What a user sees in a terminal: where the notebook stopped and the line that explains, no traceback of any process."
    args = [a for k, v in {**TINY, 'root': str(tmp_path / 'runs'), 'n_epoch': -3}.items() for a in ('-p', k, str(v))]
    cmd = [sys.executable, '-m', 'papermill', str(NB), str(tmp_path / 'out.ipynb'), *args, '--no-progress-bar']
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=papermill_env)
    assert r.returncode == 1
    out = r.stderr.strip().splitlines()
    assert out[-1] == 'UserError: n_epoch must be a positive number of epochs to train, got -3', out[-15:]
    assert out[-2].startswith('The notebook stopped in cell In [') and out[-2].endswith('(the output notebook shows it):')
    assert 'Traceback' not in r.stderr and not any('File "' in l for l in out), out[-15:]

def test_other_errors_keep_their_traceback(tmp_path, papermill_env):
    "Only the notebook's one-line errors are shortened: a bug (here a broken input notebook) keeps papermill's traceback."
    bad = tmp_path / 'bug.ipynb'
    bad.write_text(json.dumps({'cells': [{'cell_type': 'code', 'execution_count': None, 'id': 'a', 'metadata': {},
                                          'outputs': [], 'source': '1 / 0'}],
                               'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}},
                               'nbformat': 4, 'nbformat_minor': 5}))
    r = subprocess.run([sys.executable, '-m', 'papermill', str(bad), str(tmp_path / 'out.ipynb'), '--no-progress-bar'],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, env=papermill_env)
    assert r.returncode == 1 and 'Traceback (most recent call last)' in r.stderr and 'ZeroDivisionError' in r.stderr

@pytest.mark.parametrize('notebook', ['train', 'evaluate_run', 'explore'])
def test_help_notebook_lists_typed_parameters(notebook):
    r = subprocess.run([sys.executable, '-m', 'papermill', '--help-notebook', str(REPO / 'nbs' / f'{notebook}.ipynb')],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and 'Unknown type' not in r.stdout, r.stdout
    listed = re.findall(r'^  (\w+): ', r.stdout, re.M)
    assert listed and (notebook != 'train' or listed == PARAMETERS), listed
