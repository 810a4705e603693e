"Elastic multi-node runs: two torchrun agents on 127.0.0.1 as two nodes (gloo, c10d rendezvous); a worker killed mid-epoch."
import json, os, signal, subprocess, sys, threading, time
from pathlib import Path
import torch
from conftest import REPO, free_port, TINY

def children(pid:int) -> list[int]:
    "Process ids whose parent is `pid` (from /proc)."
    found = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try: ppid = int(open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            if ppid == pid: found.append(int(p))
    return found

def start_agents(tmp_path, out, port, n_epoch, rdzv_id):
    args = ['-c', json.dumps(dict(name='elastic', root=str(tmp_path), log_frequency=1)),
            '-t', json.dumps({**TINY, 'limit': 96, 'batch_size': 4}), '--preset', 'cpu-32', '--progress', 'False', '--logging', 'False',
            '-se', '-1', '-ne', str(n_epoch)]
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1:2', '--nproc_per_node', '1', '--rdzv_backend', 'c10d',
           '--rdzv_endpoint', f'127.0.0.1:{port}', '--rdzv_id', rdzv_id, '--max_restarts', '3', '--monitor_interval', '1',
           str(REPO / 'tests' / 'elastic_worker.py'), str(out), *args]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) for _ in range(2)]

def test_a_worker_killed_mid_epoch_is_restarted_and_the_run_ends_at_the_asked_epoch(tmp_path):
    out = tmp_path / 'out'; out.mkdir()
    agents = start_agents(tmp_path, out, free_port(), n_epoch=8, rdzv_id='t1')
    logs, seen = [[], []], threading.Event()
    def pump(i):
        for line in agents[i].stdout:
            logs[i].append(line)
            if line.startswith('[3/8][5/'): seen.set()
    threads = [threading.Thread(target=pump, args=(i,), daemon=True) for i in range(2)]
    for t in threads: t.start()
    assert seen.wait(240), ''.join(logs[0][-20:] + logs[1][-20:])
    victim = children(agents[1].pid)
    assert victim, 'no worker under the second agent'
    os.kill(victim[0], signal.SIGKILL)                                       # a worker dies mid-epoch
    for a in agents: a.wait(timeout=400)
    for t in threads: t.join(timeout=10)
    text = ''.join(logs[0] + logs[1])
    assert [a.returncode for a in agents] == [0, 0], text[-4000:]
    run = tmp_path / 'elastic'
    assert sorted(int(p.stem.split('_')[1]) for p in run.glob('checkpoint_*.pt'))[-1] == 8, text[-3000:]   # ends at 8, not 8 + 8
    assert not list(run.glob('checkpoint_9.pt')) and text.count('done: epoch 8') == 1
    assert 'resuming from' in text                                            # the restarted workers resumed by themselves
    a, b = torch.load(out / 'rank0.pt'), torch.load(out / 'rank1.pt')
    assert all(torch.equal(a[k], b[k]) for k in a)                           # identical generators on every rank
    assert not [p for p in run.rglob('*') if 'msls-tmp' in p.name]          # one set of files, no leftovers
