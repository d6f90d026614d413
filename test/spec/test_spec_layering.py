"""Package layering: generated code never depends on handwritten code; import stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "boonamber"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_generated_code_imports_nothing_handwritten() -> None:
    files = list((PACKAGE / "v2").rglob("*.py"))
    assert len(files) > 40
    for path in files:
        for module in _imported_modules(path):
            assert not module.startswith(
                ("boonamber.facade", "boonamber.local", "boonamber.cli")
            ), f"{path} imports {module}"


def test_import_boonamber_does_not_load_numpy_or_the_generated_models() -> None:
    code = (
        "import sys, boonamber; "
        "heavy = [m for m in ('numpy', 'pandas', 'matplotlib', 'boonamber.v2.models.config') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_top_level_exports_are_curated() -> None:
    import boonamber

    assert set(boonamber.__all__) == {
        "AmberClient",
        "AmberCloudError",
        "AmberUserError",
        "__version__",
    }
