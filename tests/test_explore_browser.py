"""The explorer as a user meets it: Voila serves nbs/explore.ipynb on 127.0.0.1, Debian's Chromium (driven by Playwright)
moves the t slider and presses "save PNG", and the picture and the run folder change."""
import os, signal, socket, subprocess, sys, time
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('MSLS_NB_CHROMIUM', '/usr/bin/chromium')   # Debian's (another path: to test the skip)
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
playwright = pytest.importorskip('playwright.sync_api', reason='playwright is not installed: pip install -e ".[dev]"')
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f'Chromium is not installed at {CHROMIUM}')

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

@pytest.fixture
def explorer_app(tmp_path):
    "Voila serving nbs/explore.ipynb for an untrained tiny generator in tmp_path; yields (url, run_dir). Stopped at the end."
    subprocess.run([sys.executable, '-c', f'from msls_nb.explore import untrained_checkpoint; untrained_checkpoint({str(tmp_path)!r}, "app")'],
                   check=True, timeout=60)
    ckpt = tmp_path / 'app' / 'slim_checkpoint_0.pt'
    port, log = free_port(), open(tmp_path / 'voila.log', 'w')
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    env['MSLS_NB_CHECKPOINT'] = str(ckpt)        # Voila takes no parameters: the notebook reads the checkpoint from here
    voila = subprocess.Popen([sys.executable, '-m', 'voila', str(REPO / 'nbs' / 'explore.ipynb'), f'--port={port}', '--no-browser',
                              '--Voila.ip=127.0.0.1', '--show_tracebacks=True'],
                             cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: port_open(port) or voila.poll() is not None, 60, 'Voila to listen')
        assert voila.poll() is None, (tmp_path / 'voila.log').read_text()[-3000:]
        yield f'http://127.0.0.1:{port}/', ckpt.parent
    finally:
        voila.send_signal(signal.SIGINT)          # Jupyter servers shut their kernels down on SIGINT/SIGTERM
        try: voila.wait(15)
        except subprocess.TimeoutExpired: voila.kill(); voila.wait(5)
        log.close()

def drag_right(page, handle, dx:float):
    "Drag a slider handle `dx` pixels to the right with the mouse, like a user."
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
    page.mouse.move(x, y); page.mouse.down(); page.mouse.move(x + dx, y, steps=8); page.mouse.up()

def test_t_slider_rerenders_the_picture_in_chromium(explorer_app, tmp_path):
    url, run_dir = explorer_app
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={'width': 1280, 'height': 900}).new_page()
            page.goto(url, timeout=90_000)
            image, slider = page.locator('img.msls-image'), page.locator('.msls-t')
            image.wait_for(state='visible', timeout=90_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
            assert page.locator('.jp-OutputArea-output pre:has-text("Traceback")').count() == 0
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
    assert not list(Path(REPO / 'nbs').glob('runs')), 'the app wrote under nbs/'
