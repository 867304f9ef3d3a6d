"""The package's layering, as written in pyproject.toml's import-linter contracts: each stage imports
only the stages below it, and no surface names a store or embedding backend."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_only_go_down():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "lint-imports is missing: pip install -e '.[dev]'"
    run = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_no_surface_spells_a_backend_name():
    """The surfaces list the store backends from the registry: no name of one outside an option's help."""
    from qa.store import BACKENDS

    for path in (ROOT / "app.py", ROOT / "qa" / "cli.py", *sorted((ROOT / "qa" / "evaluation").glob("*.py"))):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ("help=" in line or "--milvus-uri" in line or "LIBRARY_LOGGERS" in line
                    or line.strip().startswith(("#", "help"))):
                continue
            for name in BACKENDS:
                assert f'"{name}"' not in line and f"'{name}'" not in line, f"{path.name}:{n} names a backend: {line}"
