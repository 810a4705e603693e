"The package's layers: each module imports only modules whose notebooks come before its own (00_config first)."
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def notebook_of_module() -> dict:
    "`{module: notebook file name}` for every library notebook (`#| default_exp` in its first cell)."
    found = {}
    for p in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(p.read_text())['cells']
        m = re.search(r'#\|\s*default_exp\s+(\w+)', ''.join(cells[0]['source'])) if cells else None
        if m: found[m.group(1)] = p.name
    return found

def test_imports_point_down_the_layers():
    order = notebook_of_module()
    assert len(order) >= 20
    imports = lambda mod: set(re.findall(r'^\s*from (?:\.|msls_nb\.)(\w+) import',
                                         (ROOT / 'msls_nb' / f'{mod}.py').read_text(), re.M))
    upward = [f'{mod} ({nb}) imports {imp} ({order.get(imp)})' for mod, nb in order.items() for imp in imports(mod)
              if imp not in order or order[imp] >= nb]
    assert not upward, upward

def test_only_the_device_module_asks_torch_distributed():
    "Process groups have one owner (msls_nb.device); the rest ask it."
    askers = [p.name for p in (ROOT / 'msls_nb').glob('*.py') if p.name != 'device.py'
              and re.search(r'torch\.distributed|import DistributedDataParallel|\bdist\.', p.read_text())]
    assert not askers, askers
