"On a CUDA GPU only (skipped elsewhere; bench/gpu_session.sh runs them): CUDA graphs across resumes, end to end."
import pytest, torch
from conftest import cli, tiny_args

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU (bench/gpu_session.sh runs it)')

def test_a_resumed_run_graphs_as_a_new_one_and_its_checkpoint_resumes_without_graphs(tmp_path):
    r = cli(*tiny_args(tmp_path, 'g', cuda_graphs=False), '-ne', '1', '--logging', 'False', '--device', 'cuda', check=0)
    assert 'cuda_graphs=False' in r.stdout, r.stdout[-3000:]
    # resumed with the default (graphs on CUDA): the loaded optimizer states must not bring capturable=False back
    r = cli(*tiny_args(tmp_path, 'g'), '-se', '-1', '-ne', '1', '--logging', 'False', '--device', 'cuda', check=0)
    assert 'resuming from' in r.stdout and 'cuda_graphs=True' in r.stdout, r.stdout[-3000:]
    assert 'no CUDA graphs' not in r.stdout + r.stderr, r.stdout[-3000:]
    ck = torch.load(tmp_path / 'g' / 'checkpoint_2.pt', weights_only=False, map_location='cpu')
    assert all(g['capturable'] for g in ck['G_optim']['param_groups'])
    # and the graphed run's checkpoint resumes on the CPU, where nothing is capturable
    r = cli(*tiny_args(tmp_path, 'g'), '-se', '-1', '-ne', '1', '--logging', 'False', '--device', 'cpu', check=0)
    assert 'resuming from' in r.stdout and 'cuda_graphs=False' in r.stdout, r.stdout[-3000:]
