"Shared pieces of the cross-process tests: tiny CLI arguments, subprocess runners, a local S3 server."
import json, os, socket, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
BROWSER_TEST = 'test_explore_browser.py'
CHROMIUM_INSTALL = 'apt-get install chromium chromium-driver'
TINY = dict(ngf=8, ndf=8, nz=16, batch_size=8, limit=32)   # cpu-32 preset, 4 batches per epoch

def tiny_args(root, name, log_frequency=2, **train):
    "CLI arguments of a tiny run on the embedded sample data."
    return ['-c', json.dumps(dict(name=name, root=str(root), log_frequency=log_frequency)),
            '-t', json.dumps({**TINY, **train}), '--preset', 'cpu-32', '--progress', 'False']

def cli(*args, env=None, timeout=300, check=None):
    "Run `python -m msls_nb.run_dcgan ARGS` in a fresh process; returns the CompletedProcess."
    r = subprocess.run([sys.executable, '-m', 'msls_nb.run_dcgan', *map(str, args)], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **(env or {})})
    if check is not None: assert r.returncode == check, f'exit {r.returncode}\n{r.stdout}\n{r.stderr}'
    return r

@pytest.fixture(scope='session')
def egg_info(tmp_path_factory):
    "setup.py's metadata as `pip install -e .` would register it (`egg_info`), in a folder: its `msls_nb.egg-info`."
    base = tmp_path_factory.mktemp('entry_points')
    subprocess.run([sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', str(base)], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    return base / 'msls_nb.egg-info'

@pytest.fixture(scope='session')
def papermill_env(egg_info):
    """The environment of a papermill that loads msls_nb's engine as `pip install -e .` registers it: setup.py's own
    entry points first on PYTHONPATH, whatever this environment's installed metadata holds."""
    assert 'msls_nb = msls_nb.environment:PapermillEngine' in (egg_info / 'entry_points.txt').read_text()
    paths = [str(egg_info.parent), str(REPO), *filter(None, [os.environ.get('PYTHONPATH')])]
    return {**os.environ, 'PYTHONPATH': os.pathsep.join(paths)}

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='session')
def s3_server():
    "A real S3-compatible HTTP server (moto's server mode) on 127.0.0.1; yields the environment that points boto3 at it."
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address='127.0.0.1', port=port)
    server.start()
    env = dict(AWS_ENDPOINT_URL=f'http://127.0.0.1:{port}', AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing',
               AWS_DEFAULT_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true')
    yield env
    server.stop()

def pytest_terminal_summary(terminalreporter):
    "Say loudly that the browser test did not run when it was skipped: '1 skipped' at the end reads like a pass."
    skipped = [r for r in terminalreporter.stats.get('skipped', []) if BROWSER_TEST in r.nodeid]
    if not skipped: return
    why = skipped[0].longrepr[2] if isinstance(skipped[0].longrepr, tuple) else str(skipped[0].longrepr)
    terminalreporter.write_sep('!', 'the browser test did NOT run', red=True, bold=True)
    terminalreporter.write_line(f'{BROWSER_TEST}: {why.removeprefix("Skipped: ")}')
    terminalreporter.write_line(f'to run it, install Debian\'s Chromium: {CHROMIUM_INSTALL} (.ci/run does)', red=True)
