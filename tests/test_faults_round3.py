"""Faults of round 3 (issue 25): mistakes that write nothing, flipped checkpoints, read-only and file-as-folder run
folders, Ctrl-C (CLI and notebook kernel), an epoch's slim checkpoint restored, a full disk while packing the cache."""
import json, os, re, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
import torch
from conftest import REPO, cli, tiny_args
from test_faults import small_disk

def in_one_process(cases:list) -> list:
    "`(exit status, stderr)` of `msls_nb.run_dcgan.main(argv)` for each argv, in one fresh process (torch imported once)."
    code = textwrap.dedent("""
        import contextlib, io, json, sys
        from msls_nb.run_dcgan import main
        out = []
        for argv in json.loads(sys.argv[1]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err): rc = main(argv)
            out.append((rc, err.getvalue()))
        print(json.dumps(out))""")
    r = subprocess.run([sys.executable, '-c', code, json.dumps(cases)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_every_mistake_is_caught_before_anything_is_written(tmp_path):
    root, cache = tmp_path / 'runs', tmp_path / 'cache'
    base = lambda **t: tiny_args(root, 'oops', cache_dir=str(cache), **t)
    cases = [(base(), ['-d', str(tmp_path / 'nonexistent')], 'does not exist'),
             (base(cities=['atlantis']), [], "city 'atlantis' is not under"),
             (base(batch_size=64, limit=32), [], '32 images make no full batch of 64'),
             (base(nc=2), [], "'nc' must be 3 (colour images) or 1 (greyscale), got 2"),
             (base(), ['-se', 'abc'], "s_epoch must be an epoch number"),
             (base(), ['--seed', '-5'], "'seed' must be an integer from 0 to 2**63 - 1, got -5"),
             (base(), ['-se', '3'], 'no checkpoint_3.pt in'),
             (base(), ['--end_epoch', '0'], 'end_epoch 0 is not after epoch 0')]    # found holding the lock: its folder goes again
    results = in_one_process([args + extra + ['-ne', '1', '--logging', 'False'] for args, extra, _ in cases])
    for (args, extra, msg), (rc, err) in zip(cases, results):
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and msg in lines[0], (extra, msg, rc, err)
    assert not root.exists() and not cache.exists(), sorted(map(str, tmp_path.rglob('*')))   # no run folder, lock, plan, cache

def fresh_run(tmp_path, name, n_epoch, **train):
    cli(*tiny_args(tmp_path, name, **train), '-ne', n_epoch, '--logging', 'False', check=0)
    return tmp_path / name

def flip_tensor_bytes(path:Path, tensor:torch.Tensor, n:int=64):
    "Flip `n` bytes of `tensor`'s data where the checkpoint file at `path` stores it (as a failing disk would)."
    whole = tensor.as_strided((tensor.untyped_storage().nbytes() // tensor.element_size(),), (1,), 0)   # its storage, any layout
    data, raw = path.read_bytes(), whole.view(torch.uint8).numpy().tobytes()
    at = data.find(raw)
    assert at > 0 and data.find(raw, at + 1) < 0
    mid = at + len(raw) // 2
    path.write_bytes(data[:mid] + bytes(b ^ 0xA5 for b in data[mid:mid + n]) + data[mid + n:])

def test_flipped_checkpoint_is_skipped_like_a_truncated_one_and_the_resume_stays_exact(tmp_path):
    run = fresh_run(tmp_path, 'flip', 3)
    clean = torch.load(run / 'checkpoint_3.pt', weights_only=False)
    flip_tensor_bytes(run / 'checkpoint_3.pt', clean['G_state_dict']['main.0.weight'])     # 64 bytes of G's weights
    r = cli(*tiny_args(tmp_path, 'flip'), '-se', '3', '-ne', '1', '--logging', 'False', check=2)   # asked for by number
    assert len(r.stderr.strip().splitlines()) == 1 and 'is damaged: its contents do not match the checksum' in r.stderr
    assert 'resume from the newest good one with s_epoch 2' in r.stderr
    r = cli(*tiny_args(tmp_path, 'flip'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert 'warning: skipping checkpoint_3.pt: checkpoint' in r.stdout and 'is damaged' in r.stdout
    assert f'resuming from {run / "checkpoint_2.pt"}' in r.stdout
    again = torch.load(run / 'checkpoint_3.pt', weights_only=False)                        # epoch 3 trained again
    for key in ('G_state_dict', 'D_state_dict', 'G_ema_state_dict'):
        assert all(torch.equal(clean[key][k], again[key][k]) for k in clean[key]), key
    assert again['losses'] == clean['losses'] and again['global_step'] == clean['global_step']
    assert torch.equal(again['noise'], clean['noise'])
    optim = lambda ck: [t for s in ck['G_optim']['state'].values() for t in s.values()]
    assert all(torch.equal(a, b) for a, b in zip(optim(clean), optim(again)))
    slim = torch.load(run / 'slim_checkpoint_3.pt', weights_only=False)                     # a flipped slim one: msls-generate refuses it
    (run / 'copy.pt').write_bytes((run / 'checkpoint_3.pt').read_bytes())
    flip_tensor_bytes(run / 'copy.pt', again['G_ema_state_dict']['main.0.weight'])
    r = subprocess.run([sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import generate_main; sys.exit(generate_main())',
                        str(run / 'copy.pt'), '-o', str(tmp_path / 'g.png')], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'is damaged' in r.stderr, r.stderr
    assert slim['checksum'].startswith('sha256:') and again['checksum'].startswith('sha256:')

def test_old_checkpoints_without_a_checksum_still_resume(tmp_path):
    run = fresh_run(tmp_path, 'old', 1)
    ck = torch.load(run / 'checkpoint_1.pt', weights_only=False)
    del ck['checksum']; torch.save(ck, run / 'checkpoint_1.pt')
    r = cli(*tiny_args(tmp_path, 'old'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert f'resuming from {run / "checkpoint_1.pt"}' in r.stdout

def test_non_finite_loss_right_after_a_resume_names_the_checkpoint(tmp_path):
    run = fresh_run(tmp_path, 'nanopt', 2)
    ck = torch.load(run / 'checkpoint_2.pt', weights_only=False)                            # an old (unsealed) checkpoint
    del ck['checksum']                                                                       # whose optimiser state is damaged
    for s in ck['D_optim']['state'].values(): s['exp_avg'].fill_(float('nan'))
    torch.save(ck, run / 'checkpoint_2.pt')
    r = cli(*tiny_args(tmp_path, 'nanopt'), '-se', '-1', '-ne', '1', '--logging', 'False', check=1)
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and 'non-finite loss at epoch 3 step' in err, err
    assert f'this run resumed from {run / "checkpoint_2.pt"} and saved nothing since' in err
    assert 'resume from an earlier one with s_epoch 1' in err

def test_read_only_run_folder_and_a_file_in_place_of_a_folder_are_one_line_exit_74(tmp_path):
    with small_disk(tmp_path / 'ro', size='16m') as root:
        fresh_run(root, 'frozen', 1)
        subprocess.run(['mount', '-o', 'remount,ro', str(root)], check=True)
        try:
            r = cli(*tiny_args(root, 'frozen'), '-se', '-1', '-ne', '1', '--logging', 'False')
        finally: subprocess.run(['mount', '-o', 'remount,rw', str(root)], check=True)
        err = r.stderr.strip()
        assert r.returncode == 74 and len(err.splitlines()) == 1, (r.returncode, err)
        assert 'the file system is read-only' in err and f"{root / 'frozen' / 'checkpoint_1.pt'} is unchanged" in err, err
    (tmp_path / 'afile').write_text('not a folder')
    (tmp_path / 'runs').mkdir(); (tmp_path / 'runs' / 'taken').write_text('not a folder either')
    results = in_one_process([tiny_args(tmp_path / 'afile', 'x') + ['-ne', '1', '--logging', 'False'],
                              tiny_args(tmp_path / 'runs', 'taken') + ['-ne', '1', '--logging', 'False']])
    for (rc, err), blocker in zip(results, (tmp_path / 'afile', tmp_path / 'runs' / 'taken')):
        assert rc == 74 and len(err.strip().splitlines()) == 1 and f'{blocker} is a file, not a folder' in err, err
    assert (tmp_path / 'afile').read_text() == 'not a folder'

def test_a_resume_first_writes_the_slim_checkpoint_and_grid_its_epoch_left_unwritten(tmp_path):
    run = fresh_run(tmp_path, 'halfsaved', 2)
    slim = torch.load(run / 'slim_checkpoint_2.pt', weights_only=False)
    grid = (run / 'figures' / 'samples_epoch_2.png').read_bytes()
    (run / 'slim_checkpoint_2.pt').unlink(); (run / 'figures' / 'samples_epoch_2.png').unlink()   # killed right after checkpoint_2.pt
    r = cli(*tiny_args(tmp_path, 'halfsaved'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert "wrote what epoch 2 left unwritten, from checkpoint_2.pt: samples_epoch_2.png, slim_checkpoint_2.pt" in r.stdout
    back = torch.load(run / 'slim_checkpoint_2.pt', weights_only=False)
    assert back['epoch'] == 2 and all(torch.equal(slim['G_state_dict'][k], back['G_state_dict'][k]) for k in slim['G_state_dict'])
    assert back['checksum'] == slim['checksum']                                             # the very payload epoch 2 wrote
    assert (run / 'figures' / 'samples_epoch_2.png').read_bytes() == grid
    assert (run / 'slim_checkpoint_3.pt').is_file()

def wait_for(p, prefix:str) -> str:
    for line in p.stdout:
        if line.startswith(prefix): return line
    raise AssertionError(f'no line starting with {prefix!r}; stderr: {p.stderr.read()[-2000:]}')

def test_ctrl_c_saves_the_epoch_in_progress_one_line_exit_130_and_the_resume_is_exact(tmp_path):
    args = lambda name: tiny_args(tmp_path, name, log_frequency=1, limit=96, batch_size=8)   # 12 batches an epoch
    cli(*args('whole'), '-ne', '3', '--logging', 'False', check=0)
    p = subprocess.Popen([sys.executable, '-u', '-m', 'msls_nb.run_dcgan', *args('cut'), '-ne', '3', '--logging', 'False'], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(p, '[2/3][5/')
    p.send_signal(signal.SIGINT)                                                             # Ctrl-C
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and len(err.strip().splitlines()) == 1, (p.returncode, err)
    assert 'stopped by SIGINT at epoch 2 step' in err and 'resume with s_epoch -1' in err and 'Traceback' not in err
    assert 0 < torch.load(tmp_path / 'cut' / 'checkpoint_2.pt', weights_only=False)['step'] < 12
    cli(*args('cut'), '-se', '-1', '-ne', '2', '--logging', 'False', check=0)
    a = torch.load(tmp_path / 'whole' / 'checkpoint_3.pt', weights_only=False)
    b = torch.load(tmp_path / 'cut' / 'checkpoint_3.pt', weights_only=False)
    assert all(torch.equal(a['G_state_dict'][k], b['G_state_dict'][k]) for k in a['G_state_dict']) and a['losses'] == b['losses']

def test_ctrl_c_before_training_is_one_line_exit_130(tmp_path):
    p = subprocess.Popen([sys.executable, '-u', '-c', 'import time, sys; from msls_nb.run_dcgan import main; '
                          'import msls_nb.train as t; t.check_can_start = lambda *a: (print("checking", flush=True), time.sleep(60)); '
                          'sys.exit(main())', *tiny_args(tmp_path, 'early'), '-ne', '1'], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_for(p, 'checking')                                                                  # imported, and waiting in the checks
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and err.strip().splitlines() == [
        'python -m msls_nb.run_dcgan: interrupted; files already written are complete (a run resumes with -se -1, a cache build where it stopped)'], err

def test_interrupting_the_notebook_kernel_under_papermill_leaves_a_checkpoint_and_says_how_to_continue(tmp_path):
    from test_elastic import children
    params = dict(preset='cpu-32', ngf=8, ndf=8, nz=16, img_size=32, batch_size=8, log_frequency=1, logging=False,
                  name='nbint', root=str(tmp_path / 'runs'), n_epoch=50)
    cmd = [sys.executable, '-m', 'papermill', str(REPO / 'nbs' / 'train.ipynb'), str(tmp_path / 'out.ipynb'), '--log-output',
           '--cwd', str(REPO), *[a for k, v in params.items() for a in ('-p', k, str(v))]]
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in p.stdout:
        seen.append(line)
        if re.search(r'\[1/50\]\[3/', line): break
    kernels = [c for c in children(p.pid) if b'ipykernel' in open(f'/proc/{c}/cmdline', 'rb').read()]
    assert len(kernels) == 1, ''.join(seen[-20:])
    os.kill(kernels[0], signal.SIGINT)                                                       # "interrupt the kernel"
    out = ''.join(seen) + p.communicate(timeout=180)[0]
    assert p.returncode != 0
    from msls_nb.checkpoint import latest_checkpoint
    epoch, path = latest_checkpoint(tmp_path / 'runs' / 'nbint')
    ck = torch.load(path, weights_only=False)
    assert ck['step'] >= 1 and (epoch, ck['step']) >= (1, 3)                                 # the epoch in progress, saved
    nb = json.loads((tmp_path / 'out.ipynb').read_text())
    error = next(o for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'error')
    assert error['ename'] == 'TrainingInterrupted', error['ename']
    assert f'stopped by SIGINT at epoch {epoch} step {ck["step"]}/' in error['evalue'], error['evalue']
    assert '-p s_epoch -1 with papermill' in error['evalue']
    cont = [sys.executable, '-m', 'papermill', str(REPO / 'nbs' / 'train.ipynb'), str(tmp_path / 'cont.ipynb'), '--cwd', str(REPO),
            *[a for k, v in {**params, 's_epoch': -1, 'n_epoch': 1}.items() for a in ('-p', k, str(v))]]
    r = subprocess.run(cont, cwd=REPO, capture_output=True, text=True, timeout=600)          # the continuation it names
    assert r.returncode == 0, r.stderr[-3000:]
    assert torch.load(path, weights_only=False).get('step') is None                           # that epoch, finished

def test_a_full_disk_while_packing_the_cache_is_one_line_exit_74_not_a_bus_error(tmp_path):
    with small_disk(tmp_path / 'tiny', size='1m') as cache:                                  # 288 images of 64 px need 3.5 MB
        for cmd in ([sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import data_main; sys.exit(data_main())', 'cache',
                     '-t', json.dumps(dict(img_size=64, cache_dir=str(cache), workers=2)), '--preset', 'none'],
                    [sys.executable, '-m', 'msls_nb.run_dcgan', *tiny_args(tmp_path / 'runs', 'c', img_size=64, cache_dir=str(cache),
                                                                           limit=None, workers=2), '-ne', '1']):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
            err = r.stderr.strip()
            assert r.returncode == 74 and len(err.splitlines()) == 1, (r.returncode, err[-2000:])
            assert 'images.npy: the disk is full; the packed cache needs' in err and 'cache_dir' in err, err
            assert time.perf_counter() - t0 < 120
        assert not (tmp_path / 'runs' / 'c').exists()                                        # the run never started: no folder left

def test_odd_images_are_counted_each_warning_is_one_line_and_no_progress_bar_goes_into_a_pipe(tmp_path):
    from PIL import Image
    from msls_nb.sample import make_sample_dataset
    root = make_sample_dataset(tmp_path / 'data', cities=['tokyo'], n_query=8, n_database=32, size=(160, 120), frames_per_sequence=4)
    images = root / 'tokyo' / 'database' / 'images'
    jpgs = sorted(images.glob('*.jpg'))
    jpgs[3].write_bytes(jpgs[3].read_bytes()[:800])                                          # a download cut short
    Image.new('RGB', (1, 1)).save(images / 'dot.jpg'); Image.new('L', (160, 120)).save(images / 'grey.jpg')
    Image.new('CMYK', (160, 120)).save(images / 'cmyk.jpg'); Image.new('RGB', (160, 120)).save(images / 'shot.png')
    (images / 'trap.jpg').mkdir()
    args = tiny_args(tmp_path, 'odd', data_root=str(root), cache_dir=str(tmp_path / 'cache'), limit=None, workers=2)
    r = cli(*args, '-ne', '1', '--logging', 'False', check=0)
    summary = next(l for l in r.stdout.splitlines() if l.startswith('new run:'))
    for count in ('data_bad_files=1', 'data_missing=0', 'data_too_small=1', 'data_not_rgb=2', 'data_not_jpeg=1', 'data_n_images=43'):
        assert count in summary, (count, summary)
    lines = r.stderr.strip().splitlines()
    assert lines and all(l.startswith('python -m msls_nb.run_dcgan: warning: ') for l in lines), r.stderr  # no source lines
    assert sum('skipped unreadable image' in l for l in lines) == 1
    assert sum('folder(s) named like images' in l for l in lines) == 1
    assert 'packing images' not in r.stderr and '\r' not in r.stderr                       # stderr is a pipe: no bar

def test_msls_data_cache_prune_removes_only_caches_of_other_versions(tmp_path):
    data_cli = [sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import data_main; sys.exit(data_main())', 'cache']
    t = json.dumps(dict(img_size=32, cache_dir=str(tmp_path / 'cache'), limit=32))
    subprocess.run([*data_cli, '-t', t, '--preset', 'none'], cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    packed = tmp_path / 'cache' / 'packed'
    current = next(p for p in packed.iterdir() if p.is_dir())
    old = packed / 'sample-32px-00000000000000ff'                                            # what a version before left
    (old / 'chunks').mkdir(parents=True); (old / 'images.npy').write_bytes(bytes(3_000_000))
    (old / 'manifest.json').write_text(json.dumps(dict(version=2, settings={})))
    r = subprocess.run([*data_cli, '-t', t, '--preset', 'none', '--prune'], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.splitlines() == [
        f'removed {old} (3.0 MB)', f'1 stale packed cache(s) removed from {packed}, 3.0 MB freed'], r.stdout + r.stderr
    assert not old.exists() and (current / 'manifest.json').is_file()

SLOW_BUILD = """
import sys, time, numpy as np
from pathlib import Path
from msls_nb.cache import PackedCache
from msls_nb.run_dcgan import run_command
def load(path): time.sleep(0.05); return np.zeros((4, 4, 3), np.uint8)
files = [f'{i}.jpg' for i in range(400)]
sys.exit(run_command('msls-data', lambda: PackedCache(Path(sys.argv[1])).build(
    '/tmp', files, load, (4, 4, 3), {}, workers=2, chunk=8, progress=False) and 0))
"""

def test_ctrl_c_during_a_parallel_cache_build_is_one_line_exit_130_and_the_build_resumes(tmp_path):
    p = subprocess.Popen([sys.executable, '-c', SLOW_BUILD, str(tmp_path / 'c')], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    while not list((tmp_path / 'c' / 'chunks').glob('*.json')): time.sleep(0.1)           # some chunks packed
    t0 = time.perf_counter()
    os.killpg(p.pid, signal.SIGINT)                                                          # Ctrl-C: the parent and its workers
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and len(err.strip().splitlines()) == 1 and 'interrupted' in err, (p.returncode, err)
    assert time.perf_counter() - t0 < 10
    done = len(list((tmp_path / 'c' / 'chunks').glob('0*.json')))
    r = subprocess.run([sys.executable, '-c', SLOW_BUILD, str(tmp_path / 'c')], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (tmp_path / 'c' / 'manifest.json').is_file() and 0 < done < 50, (done, r.stderr)
