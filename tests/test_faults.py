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
