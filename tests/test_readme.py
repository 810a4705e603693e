"""The README's commands as a new user runs them, one after the other, in a fresh folder: the quickstart (with a tiny
model, so that its 300 epochs take seconds), the same command again, the command that continues the run, and the
examples that use what the quickstart made. Each is read from README.md, not copied here."""
import re, shlex, shutil, subprocess, sys
from pathlib import Path
import imageio.v3 as iio
import pytest
from conftest import REPO

README = (REPO / 'README.md').read_text()
TINY = ['-p', 'preset', 'cpu-32', '-p', 'ngf', '8', '-p', 'ndf', '8', '-p', 'nz', '16', '-p', 'batch_size', '8',
        '-p', 'train_params', '{"limit": 8}', '-p', 'logging', 'False',   # one batch of 32 px images per epoch
        '-p', 'minutes', '60']   # the README's budget ends a run on a slow machine: here the tiny model trains every epoch
ENTRY_POINTS = {'papermill': [sys.executable, '-m', 'papermill'],
                'msls-generate': [sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import generate_main; '
                                                        'sys.exit(generate_main())'],
                'msls-data': [sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import data_main; '
                                                    'sys.exit(data_main())']}

def readme_commands(program:str) -> list[list[str]]:
    "The commands of the README's bash blocks that run `program` (also after `... && `), split as a shell does."
    blocks = re.findall(r'```bash\n(.*?)```', README, re.S)
    lines = [line for block in blocks for line in block.replace('\\\n', ' ').splitlines()]
    parts = [part for line in lines for part in line.split(' && ')]
    return [shlex.split(part, comments=True) for part in parts if part.startswith(program + ' ')]

def readme_command(program:str, *words:str) -> list[str]:
    "The one README command that runs `program` with all of `words` in it."
    found = [c for c in readme_commands(program) if all(w in c for w in words)]
    assert len(found) == 1, f'README.md should show one `{program}` command with {words}, found {found}'
    return found[0]

def run(cmd:list[str], cwd:Path, *extra:str) -> subprocess.CompletedProcess:
    "Run a README command in `cwd`, notebooks taken from the checkout and outputs kept under `cwd`."
    here = lambda a: str(REPO / a) if a.startswith('nbs/') else str(cwd / Path(a).name) if a.startswith('/tmp/') else a
    args = [here(a) for a in cmd[1:]]
    exe = [shutil.which(cmd[0])] if shutil.which(cmd[0]) else ENTRY_POINTS[cmd[0]]
    return subprocess.run(exe + args + list(extra), cwd=cwd, capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def user(tmp_path_factory):
    "A folder where the quickstart has run, as the README says (tiny model): the user's working directory."
    cwd = tmp_path_factory.mktemp('user')
    r = run(readme_command('papermill', 'nbs/train.ipynb', '300'), cwd, *TINY)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return cwd

def test_quickstart_installs_cpu_torch_first_and_trains(user):
    quickstart = re.search(r'## Quickstart.*?```bash\n(.*?)```', README, re.S).group(1).splitlines()
    assert quickstart[0] == 'pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu'
    assert quickstart[1].startswith('pip install -e . && papermill nbs/train.ipynb') and len(quickstart) == 2
    run_dir = user / 'runs' / 'msls_dcgan'
    assert {f'slim_checkpoint_{e}.pt' for e in range(25, 301, 25)} <= {p.name for p in run_dir.iterdir()}
    assert (run_dir / 'videos' / 'msls_dcgan_epoch_300_seed0-sequence.gif').is_file()
    assert iio.imread(run_dir / 'figures' / 'slerp_epoch_300.png').shape == (100, 982, 3)   # ten 32 px images, 96 px
    assert (user / 'msls_train_out.ipynb').is_file()
    assert (run_dir / 'report_epoch_300.ipynb').is_file()                      # the report, kept in the run folder
    assert '-p minutes 3' in ' '.join(quickstart)                                 # the time budget bounds it on slow CPUs

def test_generate_examples_run_as_written(user):
    commands = readme_commands('msls-generate')
    assert len(commands) == 2
    for cmd in commands:
        r = run(cmd, user)
        assert r.returncode == 0, (cmd, r.stderr)
    run_dir = user / 'runs' / 'msls_dcgan'                                      # the run's folder, not the user's
    assert iio.imread(run_dir / 'figures' / 'generated_slim_checkpoint_300_seed0.png').shape == (8 * 34 + 2, 8 * 34 + 2, 3)
    assert iio.imread(run_dir / 'videos' / 'slerp_slim_checkpoint_300_seed0.gif', index=None).shape == (4 * 30, 4 * 34 + 2, 4 * 34 + 2, 3)
    assert not list(user.glob('*.png')) and not list(user.glob('*.gif'))
    assert f"`{run_dir.relative_to(user) / 'figures' / 'generated_slim_checkpoint_300_seed0.png'}`" in README

def test_evaluate_example_runs_as_written(user):
    r = run(readme_command('papermill', 'nbs/evaluate_run.ipynb'), user,
            '-p', 'n_samples', '16', '-p', 'device', 'cpu', '-p', 'inception_weights', str(user / 'offline.pth'))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (user / 'runs' / 'msls_dcgan' / 'figures' / 'metrics.png').is_file()

def test_second_run_says_how_to_continue_then_continues(user):
    run_dir = user / 'runs' / 'msls_dcgan'
    before = {p.name: p.stat().st_mtime_ns for p in [*run_dir.glob('*.pt'), run_dir / 'report_epoch_300.ipynb']}
    r = run(readme_command('papermill', 'nbs/train.ipynb', '300'), user, *TINY)
    assert r.returncode != 0
    last = (r.stdout + r.stderr).strip().splitlines()[-1]
    assert last.startswith('UserError: ') and 'already holds checkpoints up to epoch 300' in last, last
    assert '-p s_epoch -1 to continue' in last and '-p name' in last, last
    assert 'start_or_resume_training_run' not in r.stderr          # it stopped in the validation cell, not in training
    assert {p.name: p.stat().st_mtime_ns for p in [*run_dir.glob('*.pt'), run_dir / 'report_epoch_300.ipynb']} == before
    assert 'report_epoch_300.ipynb' in README                                  # the README says where the report stays
    assert '`-p s_epoch -1`' in README and 'delete `runs/msls_dcgan`' in README
    r = run(readme_command('papermill', 'nbs/train.ipynb', 's_epoch', '-1'), user, *TINY, '-p', 'n_epoch', '1')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (run_dir / 'slim_checkpoint_301.pt').is_file() and (run_dir / 'report_epoch_301.ipynb').is_file()

def test_msls_data_cache_explains_its_options(tmp_path):
    "The README's `msls-data cache -d ... --preset ...`: every option of it says what it is in --help."
    cmd = readme_command('msls-data', 'cache')
    assert '-d' in cmd and '--preset' in cmd
    r = run(['msls-data', 'cache', '--help'], tmp_path)
    assert r.returncode == 0, r.stderr
    options = re.split(r'\n(?:options|optional arguments):', r.stdout)[1]   # (Python < 3.10 says 'optional arguments')
    entries = re.split(r'\n  (?=-)', options)                        # one per option: its flags, then its help
    for flags in ('-d DATAROOT, --dataroot DATAROOT', '-t TRAIN_PARAMS, --train_params TRAIN_PARAMS', '--preset PRESET',
                  '--device DEVICE'):
        entry = next(e for e in entries if e.startswith(flags))
        assert len(entry[len(flags):].split()) >= 3, entry          # a few words that say what it is

def test_explorer_installs_with_the_line_the_readme_gives(egg_info):
    "The README's two explorer commands: the install line's extra brings Voila, and the command is a console script."
    block = re.search(r'```bash\npip install -e "\.\[explore\]"\nmsls-explore .*?```', README, re.S)
    assert block, 'README.md should give the explorer as `pip install -e ".[explore]"`, then `msls-explore`'
    requires = (egg_info / 'requires.txt').read_text()
    assert re.search(r'^\[explore\]\nvoila>=', requires, re.M), requires
    assert 'msls-explore = msls_nb.run_dcgan:explore_main' in (egg_info / 'entry_points.txt').read_text()

def test_readme_links_the_original_package_and_its_flags():
    original = 'https://github.com/DMW2151/msls-pytorch-dcgan/'
    flags = re.search(r'The established flags of the msls trainer \(.*?\((\S+)\)\)', README, re.S)
    assert flags and flags.group(1).startswith(original) and flags.group(1).endswith('/model/msls/run_dcgan.py'), flags
    code = re.search(r'Code written for the original msls package \(\[.*?\]\((\S+)\)', README, re.S)
    assert code and code.group(1).startswith(original) and code.group(1).endswith('/model/msls'), code
