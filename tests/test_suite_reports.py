"The suite's own reporting: a skipped browser test is said out loud, with the line that installs what it needs."
import os, subprocess, sys
from conftest import REPO, BROWSER_TEST, CHROMIUM_INSTALL

def test_skipped_browser_test_is_loud(tmp_path):
    env = {**os.environ, 'MSLS_NB_CHROMIUM': str(tmp_path / 'no-chromium-here')}
    cmd = [sys.executable, '-m', 'pytest', f'tests/{BROWSER_TEST}', '-q', '-p', 'no:cacheprovider']
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    n = (REPO / 'tests' / BROWSER_TEST).read_text().count('\ndef test_')      # every test of the file, skipped
    assert r.returncode == 0 and f'{n} skipped' in r.stdout and 'passed' not in r.stdout, r.stdout + r.stderr
    assert 'the browser test did NOT run' in r.stdout and CHROMIUM_INSTALL in r.stdout, r.stdout
    assert 'no-chromium-here' in r.stdout                   # and why
