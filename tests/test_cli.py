"The command line as users run it: training, resuming, and one-line errors with exit status 2."
import torch
from conftest import cli, tiny_args

def test_cli_trains_and_resumes(tmp_path):
    r = cli(*tiny_args(tmp_path, 'run'), '-ne', '2', check=0)
    assert '[1/2][2/4] Loss_D:' in r.stdout and 'img/s' in r.stdout          # a log line every log_frequency batches
    run = tmp_path / 'run'
    assert {p.name for p in run.iterdir()} >= {'checkpoint_1.pt', 'checkpoint_2.pt', 'slim_checkpoint_2.pt', 'events', 'figures'}
    assert any((run / 'events').iterdir())
    ck = torch.load(run / 'checkpoint_2.pt', weights_only=False)
    assert {'epoch', 'G_state_dict', 'D_state_dict', 'G_optim', 'D_optim', 'losses', 'img_list', 'noise', 'train_cfg', 'model_cfg', 'format_version'} <= set(ck)
    assert ck['epoch'] == 2 and len(ck['losses']['_G']) == 8 and len(ck['img_list']) == 2
    r = cli(*tiny_args(tmp_path, 'run'), '-se', '-1', '-ne', '1', '--logging', 'False', check=0)
    assert 'resuming from' in r.stdout
    ck3 = torch.load(run / 'checkpoint_3.pt', weights_only=False)
    assert ck3['epoch'] == 3 and ck3['losses']['_G'][:8] == ck['losses']['_G'] and len(ck3['losses']['_G']) == 12

def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    cases = [(['-t', '{"batch_size": "64"}'], "'batch_size' must be an integer"),
             (['-t', '{nz: 1}'], 'train_params is not valid JSON'),
             (['-se', '5'], 'no checkpoint_5.pt in'),
             (['-d', str(tmp_path / 'missing')], str(tmp_path / 'missing')),
             (['--bogus'], 'unrecognized arguments: --bogus')]
    for extra, msg in cases:
        r = cli(*tiny_args(tmp_path, 'bad'), *extra, '-ne', '1')
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and msg in lines[0], (extra, r.returncode, r.stderr)
    assert not (tmp_path / 'bad').exists() or not any((tmp_path / 'bad').glob('*.pt'))

def test_cli_refuses_to_overwrite_a_run(tmp_path):
    cli(*tiny_args(tmp_path, 'keep'), '-ne', '1', '--logging', 'False', check=0)
    before = (tmp_path / 'keep' / 'checkpoint_1.pt').read_bytes()
    r = cli(*tiny_args(tmp_path, 'keep'), '-ne', '1', check=2)
    assert 'already holds checkpoints up to epoch 1' in r.stderr
    assert (tmp_path / 'keep' / 'checkpoint_1.pt').read_bytes() == before
