"""`msls-train --minutes`: a time budget instead of (or under) an epoch count. The run ends at the last epoch that fits,
saves it and finishes as usual; a bad budget is one line, exit status 2, before anything is written."""
from conftest import cli, tiny_args

def test_budget_ends_the_run_saved_and_finished(tmp_path):
    r = cli(*tiny_args(tmp_path, 'short'), '--minutes', '0.0001', '--logging', 'False', check=0)   # 6 ms: one epoch
    assert 'epochs=1.. for 0.0001 min,' in r.stdout and 'done: epoch 1,' in r.stdout, r.stdout
    run = tmp_path / 'short'
    assert {'checkpoint_1.pt', 'slim_checkpoint_1.pt', 'figures'} <= {p.name for p in run.iterdir()}
    r = cli(*tiny_args(tmp_path, 'short'), '-se', '-1', '-ne', '2', '--minutes', '5', '--logging', 'False', check=0)
    assert 'epochs=2.. for 5 min, at most to 3,' in r.stdout and 'done: epoch 3,' in r.stdout, r.stdout   # -ne caps it

def test_bad_budget_is_one_line_exit_2(tmp_path):
    for bad, msg in [('0', 'minutes must be a positive number of minutes to train, got 0.0'),
                     ('soon', "argument --minutes: invalid float value: 'soon'")]:
        r = cli(*tiny_args(tmp_path, 'bad'), '--minutes', bad, check=2)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and msg in lines[0], r.stderr
    assert not (tmp_path / 'bad').exists()
