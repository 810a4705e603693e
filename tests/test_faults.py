"Faults: SIGTERM mid-run then resume, a non-finite loss, a checkpoint that does not match."
import os, signal, subprocess, sys, time
import torch
from conftest import REPO, cli, tiny_args

def test_sigterm_saves_epoch_in_progress_then_resume_finishes_it(tmp_path):
    args = tiny_args(tmp_path, 'spot', log_frequency=1, limit=None, batch_size=8)   # all sample images: dozens of batches an epoch
    p = subprocess.Popen([sys.executable, '-u', '-m', 'msls_nb.run_dcgan', *args, '-ne', '3', '--logging', 'False'], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stdout:                                   # wait until epoch 2 is under way
        if line.startswith('[2/3][3/'): break
    n = int(line.split('][3/')[1].split(']')[0])           # batches per epoch
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 143, (p.returncode, err)
    assert 'stopped by SIGTERM at epoch 2 step' in err
    ck = torch.load(tmp_path / 'spot' / 'checkpoint_2.pt', weights_only=False)
    done = ck['step']
    assert ck['epoch'] == 2 and 3 <= done < n and len(ck['losses']['_G']) == n + done
    r = cli(*args, '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert f'resuming from' in r.stdout
    ck = torch.load(tmp_path / 'spot' / 'checkpoint_2.pt', weights_only=False)
    assert ck['epoch'] == 2 and 'step' not in ck and len(ck['losses']['_G']) == 2 * n and len(ck['img_list']) == 2

def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    cli(*tiny_args(tmp_path, 'nan'), '-ne', '1', '--logging', 'False', check=0)
    good = (tmp_path / 'nan' / 'checkpoint_1.pt').read_bytes()
    r = cli(*tiny_args(tmp_path, 'nan', noise_std=1e38), '-se', '1', '-ne', '2', '--logging', 'False', check=1)
    assert 'non-finite loss at epoch 2 step' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (tmp_path / 'nan' / 'checkpoint_1.pt').read_bytes() == good
    assert not (tmp_path / 'nan' / 'checkpoint_2.pt').exists()

def test_resume_with_other_networks_is_refused(tmp_path):
    cli(*tiny_args(tmp_path, 'm'), '-ne', '1', '--logging', 'False', check=0)
    r = cli(*tiny_args(tmp_path, 'm', ngf=16), '-se', '1', '-ne', '1', check=2)
    assert 'ngf: checkpoint 8 vs requested 16' in r.stderr

# ---- issue 14: nothing lost or silently wrong under faults -------------------------------------------------------
import contextlib, json, shutil, threading, warnings
from pathlib import Path
import pytest

def final_G(run_dir, epoch):
    return torch.load(Path(run_dir) / f'checkpoint_{epoch}.pt', weights_only=False)['G_state_dict']

def test_two_runs_on_one_folder_the_second_is_refused(tmp_path):
    args = tiny_args(tmp_path, 'busy', log_frequency=1, limit=None)
    first = subprocess.Popen([sys.executable, '-u', '-m', 'msls_nb.run_dcgan', *args, '-ne', '500', '--logging', 'False'], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stdout:
            if line.startswith('[1/500][2/'): break                     # the first run is training (for minutes)
        for extra in (['-ne', '1'], ['-se', '-1', '-ne', '1']):           # a second new run, and a second resume of the live one
            r = cli(*tiny_args(tmp_path, 'busy'), *extra, '--logging', 'False')
            assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
            assert f"run folder {tmp_path / 'busy'} is in use by process {first.pid}" in r.stderr
    finally:
        first.send_signal(signal.SIGTERM); first.communicate(timeout=120)
    r = cli(*tiny_args(tmp_path, 'busy'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)   # the lock died with its holder

def test_leftovers_of_a_killed_save_are_removed_at_the_next_start(tmp_path):
    cli(*tiny_args(tmp_path, 'left'), '-ne', '1', '--logging', 'False', check=0)
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True).stdout.strip()
    run = tmp_path / 'left'
    import socket, re
    host = re.sub(r'[^A-Za-z0-9_.]', '_', socket.gethostname())
    junk = [run / f'.checkpoint_2.pt.msls-tmp-{host}-{dead}-0badf00d.pt', run / 'figures' / f'.samples_epoch_2.png.msls-tmp-{host}-{dead}-1234.png']
    for j in junk: j.write_bytes(b'x' * 1000)
    r = cli(*tiny_args(tmp_path, 'left'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert 'removed 2 temporary file(s)' in r.stdout and not any(j.exists() for j in junk)
    assert not [p for p in run.rglob('*') if 'msls-tmp' in p.name]

@contextlib.contextmanager
def small_disk(path, size='1800k'):
    "A tmpfs of `size` mounted at `path` (root only); skips loudly where mounting is not allowed."
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        warnings.warn(f'disk-full test NOT RUN: cannot mount a small tmpfs here ({r.stderr.strip()}); run the suite as root')
        pytest.skip('cannot mount tmpfs')
    try: yield path
    finally: subprocess.run(['umount', '-l', str(path)])

def test_disk_full_is_one_line_and_keeps_the_last_complete_checkpoint(tmp_path):
    with small_disk(tmp_path / 'small') as root:
        r = cli(*tiny_args(root, 'full'), '-ne', '8', '--logging', 'False')
        assert r.returncode == 74, (r.returncode, r.stderr[-2000:])
        err = r.stderr.strip()
        assert len(err.splitlines()) == 1 and 'the disk is full' in err, err
        saved = sorted(int(p.stem.split('_')[1]) for p in (root / 'full').glob('checkpoint_*.pt'))
        assert saved and f"the newest complete checkpoint is {root / 'full' / f'checkpoint_{saved[-1]}.pt'}" in err, err
        slims = sorted(int(p.stem.split('_')[-1]) for p in (root / 'full').glob('slim_checkpoint_*.pt'))
        assert set(slims) <= set(saved)                                    # no slim checkpoint without its full one
        assert not [p for p in (root / 'full').rglob('*') if 'msls-tmp' in p.name]
        ck = torch.load(root / 'full' / f'checkpoint_{saved[-1]}.pt', weights_only=False)   # and the newest one is whole
        assert ck['epoch'] == saved[-1]
        subprocess.run(['mount', '-o', 'remount,size=16m', str(root)], check=True)           # more space, then resume
        r = cli(*tiny_args(root, 'full'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
        assert f'resuming from {root / "full" / f"checkpoint_{saved[-1]}.pt"}' in r.stdout

def test_resume_skips_a_damaged_newest_checkpoint_and_refuses_unusable_ones(tmp_path):
    cli(*tiny_args(tmp_path, 'dmg'), '-ne', '3', '--logging', 'False', check=0)
    run = tmp_path / 'dmg'
    data = (run / 'checkpoint_3.pt').read_bytes()
    (run / 'checkpoint_3.pt').write_bytes(data[:len(data) // 2])                          # truncated by a crash of the disk
    r = cli(*tiny_args(tmp_path, 'dmg'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert 'warning: skipping checkpoint_3.pt' in r.stdout and f'resuming from {run / "checkpoint_2.pt"}' in r.stdout
    assert torch.load(run / 'checkpoint_3.pt', weights_only=False)['epoch'] == 3          # epoch 3 trained again and saved whole
    shutil.copy(run / 'slim_checkpoint_3.pt', run / 'checkpoint_99.pt')                   # a slim checkpoint under a full one's name
    r = cli(*tiny_args(tmp_path, 'dmg'), '-se', '99', '-ne', '1', '--logging', 'False', check=2)
    assert len(r.stderr.strip().splitlines()) == 1 and 'is a slim checkpoint' in r.stderr and 's_epoch 3' in r.stderr
    torch.save({'weights': torch.zeros(3)}, run / 'checkpoint_99.pt')                    # a dict without our keys
    r = cli(*tiny_args(tmp_path, 'dmg'), '-se', '99', '-ne', '1', '--logging', 'False', check=2)
    assert len(r.stderr.strip().splitlines()) == 1 and 'is not a training checkpoint' in r.stderr

def test_sigterm_mid_epoch_then_resume_equals_the_uninterrupted_run(tmp_path):
    args = lambda name: tiny_args(tmp_path, name, log_frequency=1, limit=96, batch_size=8)   # 12 batches an epoch
    cli(*args('whole'), '-ne', '3', '--logging', 'False', check=0)
    p = subprocess.Popen([sys.executable, '-u', '-m', 'msls_nb.run_dcgan', *args('cut'), '-ne', '3', '--logging', 'False'], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.startswith('[2/3][5/'): break
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143 and 'stopped by SIGTERM at epoch 2 step' in err, err
    assert 0 < torch.load(tmp_path / 'cut' / 'checkpoint_2.pt', weights_only=False)['step'] < 12
    cli(*args('cut'), '-se', '-1', '-ne', '2', '--logging', 'False', check=0)              # finish epoch 2, then epoch 3
    a, b = final_G(tmp_path / 'whole', 3), final_G(tmp_path / 'cut', 3)
    assert all(torch.equal(a[k], b[k]) for k in a), 'mid-epoch resume diverged from the uninterrupted run'
    la = torch.load(tmp_path / 'whole' / 'checkpoint_3.pt', weights_only=False)['losses']
    lb = torch.load(tmp_path / 'cut' / 'checkpoint_3.pt', weights_only=False)['losses']
    assert la == lb

def test_keep_last_keeps_the_newest_full_checkpoints_and_every_slim_one(tmp_path):
    r = cli('-c', json.dumps(dict(name='keep', root=str(tmp_path), keep_last=2)), '-t', json.dumps(dict(ngf=8, ndf=8, nz=16, batch_size=8, limit=32)),
            '--preset', 'cpu-32', '--progress', 'False', '-ne', '4', '--logging', 'False', check=0)
    run = tmp_path / 'keep'
    assert sorted(p.name for p in run.glob('checkpoint_*.pt')) == ['checkpoint_3.pt', 'checkpoint_4.pt']
    assert sorted(p.name for p in run.glob('slim_checkpoint_*.pt')) == [f'slim_checkpoint_{e}.pt' for e in (1, 2, 3, 4)]

def test_sigterm_to_rank_0_under_torchrun_saves_and_every_rank_exits_cleanly(tmp_path):
    from conftest import free_port
    from test_elastic import children
    args = tiny_args(tmp_path, 'ddpterm', log_frequency=1, limit=None, batch_size=4)   # 36 batches an epoch on 2 ranks
    p = subprocess.Popen([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
                          '--master_port', str(free_port()), '-m', 'msls_nb.run_dcgan', *args, '-ne', '3', '--logging', 'False'],
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    lines = []
    for line in p.stdout:
        lines.append(line)
        if line.startswith('[1/3][5/'): break
    workers = sorted(children(p.pid))
    assert len(workers) == 2, lines
    rank0 = next(w for w in workers if 'RANK=0' in open(f'/proc/{w}/environ', 'rb').read().replace(b'\0', b' ').decode())
    os.kill(rank0, signal.SIGTERM)                                           # the scheduler stops rank 0 only
    out = ''.join(lines) + p.communicate(timeout=180)[0]
    assert 'terminate called' not in out and 'SIGABRT' not in out and 'Signals.SIGABRT' not in out, out[-3000:]
    assert 'stopped by SIGTERM at epoch 1 step' in out, out[-3000:]
    ck = torch.load(tmp_path / 'ddpterm' / 'checkpoint_1.pt', weights_only=False)
    assert ck['step'] > 0 and len(ck['loop_state']['rng']) == 2                # both ranks' random states, to continue exactly
