"""The explorer as a user meets it: the README's `msls-explore` commands, as written, typed at the root of a fresh copy of
the repository (a relative checkpoint path, or none: the newest run under runs/), serve its nbs/explore.ipynb with Voila
on 127.0.0.1 (its kernel runs in nbs/, where `runs/...` would mean nothing); Debian's
Chromium (driven by Playwright) reads the page, moves the t slider and presses "save PNG", and the picture and the run
folder change. A checkpoint that does not exist is a message on the page, also when Voila is started by hand."""
import os, re, shlex, shutil, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / 'README.md').read_text()
CHROMIUM = os.environ.get('MSLS_NB_CHROMIUM', '/usr/bin/chromium')   # Debian's (another path: to test the skip)
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
playwright = pytest.importorskip('playwright.sync_api', reason='playwright is not installed: pip install -e ".[dev]"')
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f'Chromium is not installed at {CHROMIUM}')
# `msls-explore` where `pip install -e .` has installed it, else the same entry point
MSLS_EXPLORE = ([shutil.which('msls-explore')] if shutil.which('msls-explore') else
                [sys.executable, '-c', 'import sys; from msls_nb.run_dcgan import explore_main; sys.exit(explore_main())'])

def readme_explore_commands() -> list[list[str]]:
    "The README's `msls-explore` commands, split as a shell does."
    blocks = re.findall(r'```bash\n(.*?)```', README, re.S)
    return [shlex.split(l, comments=True) for b in blocks for l in b.splitlines() if l.startswith('msls-explore')]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for(cond, timeout:float, what:str, every:float=0.25):
    "Poll `cond()` until it is truthy (returned) or `timeout` seconds pass (AssertionError naming `what`)."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (v := cond()): return v
        time.sleep(every)
    raise AssertionError(f'timed out after {timeout:.0f} s waiting for {what}')

def port_open(port:int) -> bool:
    with socket.socket() as s: return s.connect_ex(('127.0.0.1', port)) == 0

def fresh_clone(dest:Path) -> Path:
    "A copy of this checkout's files as a clone has them (tracked and new, not ignored ones: no runs/, no build output)."
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=REPO, capture_output=True)
    files = [f for f in listed.stdout.decode().split('\0') if f] if listed.returncode == 0 else None
    if files is None: shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns('runs', '.git', '__pycache__', '*.egg-info'))
    for f in files or []:
        if (REPO / f).is_file(): (dest / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(REPO / f, dest / f)
    return dest

@pytest.fixture
def user(tmp_path):
    "The root of a fresh clone after the quickstart: runs/msls_dcgan/slim_checkpoint_300.pt (an untrained tiny generator)."
    clone = fresh_clone(tmp_path / 'msls_nb')
    subprocess.run([sys.executable, '-c', 'from msls_nb.explore import untrained_checkpoint; '
                    f'untrained_checkpoint({str(clone / "runs")!r}, "msls_dcgan")'], check=True, timeout=60)
    run = clone / 'runs' / 'msls_dcgan'
    (run / 'slim_checkpoint_0.pt').rename(run / 'slim_checkpoint_300.pt')
    return clone

@pytest.fixture
def serve(user):
    "serve(cmd, env): start `cmd` (+ Voila's port options) in the user's folder, as a shell would; yields the URL."
    started = []
    def start(cmd, env=None):
        port, log = free_port(), open(user / f'voila{len(started)}.log', 'w')
        env = {**{k: v for k, v in os.environ.items() if k not in ('IN_TEST', 'MSLS_NB_CHECKPOINT')}, 'PWD': str(user), **(env or {})}
        env['PYTHONPATH'] = os.pathsep.join([str(user), *filter(None, [os.environ.get('PYTHONPATH')])])   # the clone's msls_nb
        p = subprocess.Popen(cmd + [f'--port={port}', '--no-browser', '--Voila.ip=127.0.0.1', '--show_tracebacks=True'],
                             cwd=user, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((p, log))
        wait_for(lambda: port_open(port) or p.poll() is not None, 60, 'Voila to listen')
        assert p.poll() is None, log.name + ': ' + Path(log.name).read_text()[-3000:]
        return f'http://127.0.0.1:{port}/'
    yield start
    for p, log in started:
        p.send_signal(signal.SIGINT)          # msls-explore became Voila: Jupyter servers shut their kernels down on SIGINT
        try: p.wait(15)
        except subprocess.TimeoutExpired: p.kill(); p.wait(5)
        log.close()

def readme_command(*words) -> list[str]:
    found = [c for c in readme_explore_commands() if c[1:] == list(words)]
    assert len(found) == 1, f'README.md should show `msls-explore {" ".join(words)}`, has {readme_explore_commands()}'
    return MSLS_EXPLORE + found[0][1:]

def open_page(p, url):
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_context(viewport={'width': 1280, 'height': 900}).new_page()
    page.goto(url, timeout=90_000)
    return browser, page

def drag_right(page, handle, dx:float):
    "Drag a slider handle `dx` pixels to the right with the mouse, like a user."
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
    page.mouse.move(x, y); page.mouse.down(); page.mouse.move(x + dx, y, steps=8); page.mouse.up()

def test_readme_command_with_a_checkpoint_rerenders_and_saves_in_chromium(user, serve):
    url = serve(readme_command('runs/msls_dcgan/slim_checkpoint_300.pt'))   # relative to the user's folder, not nbs/
    served = subprocess.run([sys.executable, '-c', 'from msls_nb.run_dcgan import explore_notebook; print(explore_notebook())'],
                            cwd=user, env={**os.environ, 'PYTHONPATH': str(user)}, capture_output=True, text=True)
    assert served.stdout.strip() == str(user / 'nbs' / 'explore.ipynb'), served   # the clone's own notebook
    run_dir = user / 'runs' / 'msls_dcgan'
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, url)
        try:
            image, slider = page.locator('img.msls-image'), page.locator('.msls-t')
            image.wait_for(state='visible', timeout=90_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
            assert page.locator('.jp-OutputArea-output pre:has-text("Traceback")').count() == 0
            assert page.get_by_text(f'Exploring the checkpoint named: {run_dir / "slim_checkpoint_300.pt"}').count() == 1
            src, shot = image.get_attribute('src'), image.screenshot()
            assert slider.locator('.widget-readout').inner_text().strip() in ('0', '0.00')

            drag_right(page, slider.locator('.noUi-handle'), 120)
            t = float(slider.locator('.widget-readout').inner_text())
            assert 0.3 < t <= 1, t
            wait_for(lambda: image.get_attribute('src') != src, 30, 'the kernel to send a new picture')
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
            assert image.screenshot() != shot, 'the picture on screen did not change after moving t'

            page.get_by_role('button', name='save PNG').click()
            saved = wait_for(lambda: list((run_dir / 'explorer').glob(f'*_t{t:.2f}.png')), 30, 'save PNG to write a file')
            assert saved[0].stat().st_size > 0
        finally:
            browser.close()
    assert not (user / 'nbs' / 'runs').exists(), 'the app wrote under nbs/'

def test_readme_command_alone_opens_the_newest_run_and_says_so(user, serve):
    newer = user / 'runs' / 'later' / 'slim_checkpoint_1.pt'
    newer.parent.mkdir()
    shutil.copy(user / 'runs' / 'msls_dcgan' / 'slim_checkpoint_300.pt', newer)
    os.utime(newer, (time.time() + 5, time.time() + 5))
    url = serve(readme_command())
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, url)
        try:
            said = page.get_by_text(f'Exploring the newest run under {user / "runs"}: {newer}')
            said.wait_for(timeout=90_000)
            page.locator('img.msls-image').wait_for(state='visible', timeout=90_000)
        finally:
            browser.close()
    assert not (user / 'runs' / 'explore_tiny').exists()        # no tiny model trained beside the user's runs

def test_missing_checkpoint_is_a_message_on_the_page(user, serve):
    "Voila started by hand with a relative path in $MSLS_NB_CHECKPOINT, as the README once said: resolved, then said."
    url = serve([sys.executable, '-m', 'voila', 'nbs/explore.ipynb'],
                env={'MSLS_NB_CHECKPOINT': 'runs/msls_dcgan/slim_checkpoint_30.pt'})
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, url)
        try:
            page.get_by_text(f'no checkpoint at {user}/runs/msls_dcgan/slim_checkpoint_30.pt;').first.wait_for(timeout=90_000)
            assert page.locator('img.msls-image').count() == 0
        finally:
            browser.close()

def test_conditional_generator_has_label_dropdowns_and_a_day_night_slider(user, serve):
    "A conditional checkpoint: a city dropdown and a day ↔ night slider beside the latent sliders, each changing the picture."
    subprocess.run([sys.executable, '-c', 'from msls_nb.explore import untrained_checkpoint; '
                    f'untrained_checkpoint({str(user / "runs")!r}, "cond", '
                    'labels=dict(city=["oslo", "tokyo"], time_of_day=["day", "night"]))'],
                   check=True, timeout=60, env={**os.environ, 'PYTHONPATH': str(user)})
    url = serve(MSLS_EXPLORE + ['runs/cond/slim_checkpoint_0.pt'])
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, url)
        try:
            image = page.locator('img.msls-image')
            image.wait_for(state='visible', timeout=90_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
            assert page.locator('.jp-OutputArea-output pre:has-text("Traceback")').count() == 0
            city, night = page.locator('.msls-label-city select'), page.locator('.msls-night')
            assert [t.replace('\xa0', ' ') for t in city.locator('option').all_inner_texts()] == ['each in turn', 'oslo', 'tokyo']
            src = image.get_attribute('src')
            city.select_option(label='tokyo')
            wait_for(lambda: image.get_attribute('src') != src, 30, 'a new picture for the city asked')
            src = image.get_attribute('src')
            drag_right(page, night.locator('.noUi-handle'), 200)
            assert float(night.locator('.widget-readout').inner_text()) > 0.3
            wait_for(lambda: image.get_attribute('src') != src, 30, 'a new picture towards night')
        finally:
            browser.close()
