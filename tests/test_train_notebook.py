"nbs/train.ipynb run by papermill on a real kernel: tiny parameters, a bad parameter, and a resume."
import json
import papermill as pm
import pytest
import torch
from conftest import REPO

NB = REPO / 'nbs' / 'train.ipynb'
TINY = dict(preset='cpu-32', ngf=8, ndf=8, nz=16, img_size=32, batch_size=8, train_params='{"limit": 32}', log_frequency=2, logging=False)

def run(out, **params):
    return pm.execute_notebook(str(NB), str(out), parameters=params, kernel_name='python3', cwd=str(REPO), progress_bar=False)

def outputs(nb, mime):
    return [o for c in nb['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []) if mime in o.get('data', {})]

def test_train_notebook_runs_reports_and_resumes(tmp_path):
    nb = run(tmp_path / 'out.ipynb', name='nb', root=str(tmp_path / 'runs'), n_epoch=2, **TINY)
    assert not [o for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert len(outputs(nb, 'image/png')) >= 3                         # loss curves, real vs generated, SLERP strip
    assert outputs(nb, 'text/markdown') and outputs(nb, 'text/html') + outputs(nb, 'image/gif')   # summary; progress animation
    text = json.dumps(nb)
    assert 'preset cpu-32' in text and 'images/s' in text
    run_dir = tmp_path / 'runs' / 'nb'
    assert {'checkpoint_1.pt', 'checkpoint_2.pt', 'slim_checkpoint_2.pt'} <= {p.name for p in run_dir.iterdir()}
    assert (run_dir / 'videos' / 'progress.gif').is_file() and (run_dir / 'figures' / 'losses.png').is_file()
    run(tmp_path / 'resumed.ipynb', name='nb', root=str(tmp_path / 'runs'), n_epoch=1, s_epoch=-1, **TINY)
    ck = torch.load(run_dir / 'checkpoint_3.pt', weights_only=False)
    assert ck['epoch'] == 3 and len(ck['losses']['_G']) == 3 * 4 and len(ck['img_list']) == 3

def test_bad_parameter_fails_fast_with_one_clear_line(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as e:
        run(tmp_path / 'bad.ipynb', name='bad', root=str(tmp_path / 'runs'), **{**TINY, 'img_size': 100})
    assert "'img_size' must be a power of two from 32 to 256" in str(e.value)
    nb = json.loads((tmp_path / 'bad.ipynb').read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    failed = next(i for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c['outputs']))
    assert 'make_configs' in ''.join(code[failed]['source'])               # the first cell after the parameters
    assert not (tmp_path / 'runs' / 'bad').exists()                        # nothing trained, nothing written
