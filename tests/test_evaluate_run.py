"nbs/evaluate_run.ipynb under papermill, in a fresh kernel, on a tiny run trained by the CLI on the embedded sample data."
import csv, json, math
import pytest
from conftest import REPO, cli, tiny_args

papermill = pytest.importorskip('papermill')

def run_notebook(out, **parameters):
    return papermill.execute_notebook(str(REPO / 'nbs' / 'evaluate_run.ipynb'), str(out), parameters=parameters,
                                      kernel_name='python3', cwd=str(out.parent), progress_bar=False)

def outputs(nb, kind):
    "All outputs of one MIME type (or 'stream' text) of an executed notebook."
    found = []
    for cell in nb['cells']:
        for o in cell.get('outputs', []):
            if kind == 'stream' and o.get('output_type') == 'stream': found.append(o['text'])
            elif kind in o.get('data', {}): found.append(o['data'][kind])
    return found

def test_evaluate_run_notebook(tmp_path):
    cli(*tiny_args(tmp_path, 'tiny'), '-ne', '2', '--logging', 'False', check=0)
    run = tmp_path / 'tiny'
    nb = run_notebook(tmp_path / 'evaluated.ipynb', run_dir=str(run), n_samples=32, smooth=0.5, device='cpu',
                      inception_weights=str(tmp_path / 'no-inception-weights.pth'))   # offline: FID/KID left out
    for f in ('losses.png', 'real_vs_fake.png', 'metrics.png'): assert (run / 'figures' / f).stat().st_size > 0, f
    assert (run / 'videos' / 'progress.gif').stat().st_size > 0
    with open(run / 'metrics.csv') as f: rows = list(csv.DictReader(f))
    assert [int(r['epoch']) for r in rows] == [1, 2]
    assert all(math.isfinite(float(r[k])) for r in rows for k in ('parzen_nll', 'parzen_sigma', 'swd', 'swd_32', 'swd_16'))
    assert 'fid' not in rows[0]
    assert [r['epoch'] for r in json.loads((run / 'metrics.json').read_text())] == [1, 2]
    assert len(outputs(nb, 'image/png')) >= 3                                  # losses, real vs fake, metrics: shown inline
    assert any('<video' in h or '<img' in h for h in map(''.join, outputs(nb, 'text/html'))) or outputs(nb, 'image/gif')
    table = ''.join(map(''.join, outputs(nb, 'text/markdown')))
    assert '| epoch |' in table and 'parzen_nll' in table and 'swd' in table
    assert 'FID and KID are left out' in ''.join(map(''.join, outputs(nb, 'stream')))   # one clear warning

def test_evaluate_run_notebook_without_a_run(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as e:
        run_notebook(tmp_path / 'missing.ipynb', run_dir=str(tmp_path / 'nothing_here'), device='cpu')
    assert 'UserError' in e.value.ename and 'no full checkpoints' in e.value.evalue
