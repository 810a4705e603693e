"""nbs/explore.ipynb under papermill with no checkpoint anywhere: it trains a tiny model on the sample data for a few
seconds and shows a grid, a GIF and the explorer from it, writing only into the given root."""
import json, os, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

def test_explore_notebook_trains_a_tiny_model_when_there_is_no_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('IN_TEST', 'MSLS_NB_CHECKPOINT')}
    out, root = tmp_path / 'explore_out.ipynb', tmp_path / 'runs'
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO / 'nbs' / 'explore.ipynb'), str(out), '-p', 'root', str(root),
                        '-p', 'grid', '3', '--cwd', str(tmp_path), '--no-progress-bar'],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    run = root / 'explore_tiny'
    assert list(run.glob('slim_checkpoint_*.pt')) and (run / 'figures' / 'samples_seed0.png').stat().st_size > 0
    assert len(list((run / 'videos').glob('*-sequence.gif'))) == 1
    kinds = [k for c in json.loads(out.read_text())['cells'] if c['cell_type'] == 'code'
             for o in c.get('outputs', []) for k in o.get('data', {})]
    assert {'image/png', 'image/gif', 'application/vnd.jupyter.widget-view+json'} <= set(kinds), kinds
    assert not (REPO / 'nbs' / 'runs').exists()
