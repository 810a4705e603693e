"torchrun with two real CPU processes on gloo."
import os, subprocess, sys
import torch
from conftest import REPO, free_port

def test_torchrun_two_cpu_processes(tmp_path):
    out = tmp_path / 'out'; out.mkdir()
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
                        '--master_port', str(free_port()), str(REPO / 'tests' / 'ddp_worker.py'), str(tmp_path), str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    a, b = torch.load(out / 'rank0.pt'), torch.load(out / 'rank1.pt')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)      # identical generators on both ranks
    run = tmp_path / 'ddp'
    assert sorted(p.name for p in run.glob('*.pt')) == ['checkpoint_1.pt', 'checkpoint_2.pt', 'slim_checkpoint_1.pt', 'slim_checkpoint_2.pt']
    assert len(list((run / 'events').glob('events.out.tfevents.*'))) == 1                # one writer: rank 0
    ck = torch.load(run / 'checkpoint_2.pt', weights_only=False)
    assert len(ck['losses']['_G']) == 2 * 4                                             # 32 images / (4 x 2 ranks) = 4 steps an epoch
    assert r.stdout.count('done: epoch 2') == 1                                         # rank 0 alone logs

def test_r1_penalty_under_ddp_on_two_processes(tmp_path):
    "A lazy R1 penalty under DDP (issue 25): it trains on both ranks, keeps them identical, and changes what D learns."
    out = tmp_path / 'out'; out.mkdir()
    for gamma in ('1.0', '0.0'):
        r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
                            '--master_port', str(free_port()), str(REPO / 'tests' / 'ddp_r1_worker.py'), str(tmp_path), str(out), gamma],
                           cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, 'OMP_NUM_THREADS': '1'})
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        if gamma == '1.0':
            assert 'r1_gamma=1.0' in r.stdout and r.stdout.count('R1: ') >= 4, r.stdout[-3000:]   # logged every step on rank 0
            r1 = [float(v) for v in __import__('re').findall(r'R1: ([-\d.na]+)', r.stdout)]
            assert any(v == v and v > 0 for v in r1), r1                                     # computed (every 2nd step), finite
    a, b = (torch.load(out / f'rank{k}_1.0.pt') for k in (0, 1))
    for net in ('G', 'D'):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net]), net                   # the penalty's gradients all-reduced too
    plain = torch.load(out / 'rank0_0.0.pt')
    assert not all(torch.equal(a['D'][k], plain['D'][k]) for k in a['D'] if a['D'][k].is_floating_point())
    assert all(v == v for v in a['losses']['_D'])                                             # no NaN on the way
