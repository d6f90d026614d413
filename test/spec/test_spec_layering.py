"""Package layering: generated code never depends on handwritten code; import stays light."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib

import yaml
from helpers import ROOT, imported_modules

PACKAGE = ROOT / "boonamber"


def test_generated_code_imports_nothing_handwritten() -> None:
    files = list((PACKAGE / "v2").rglob("*.py"))
    assert len(files) > 40
    for path in files:
        for module in imported_modules(path):
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
    import boonamber.v2.models

    handwritten = {
        "AmberClient",
        "AmberCloudError",
        "AmberConnectionError",
        "AmberError",
        "AmberTimeoutError",
        "AmberUserError",
        "AmberV2Client",
        "ApiException",
        "AsyncAmberClient",
        "AuthenticationError",
        "BadRequestError",
        "ConflictError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "ServerError",
        "UnprocessableEntityError",
        "__version__",
        "float_list_to_csv_string",
        "plot",
    }
    # as in the official SDK, every generated model is exported too (boonamber.FeatureConfig)
    models = set(boonamber.v2.models.__all__)
    assert set(boonamber.__all__) == handwritten | models
    for name in boonamber.__all__:
        assert getattr(boonamber, name) is not None
    assert boonamber.AsyncAmberClient.__name__ == "AsyncAmberClient"
    assert callable(boonamber.plot)


def test_star_import_and_lazy_attributes_stay_cheap() -> None:
    code = (
        "import sys\n"
        "from boonamber import *\n"
        "assert FeatureConfig('f').name == 'f' and AmberV2Client and ApiException\n"
        "print([m for m in ('numpy', 'pandas', 'boonamber.local') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


HANDWRITTEN = ("facade", "local", "cli")
SHARED = ("wire.py", "profiles.py", "_version.py")


def test_nothing_imports_back_up_to_the_package_root() -> None:
    # ``from boonamber import x`` is fine for a submodule x, never for a package attribute
    submodules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()}
    files = [p for part in HANDWRITTEN for p in (PACKAGE / part).rglob("*.py")]
    files += [PACKAGE / name for name in SHARED]
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "boonamber":
                for alias in node.names:
                    assert alias.name in submodules, f"{path} imports boonamber.{alias.name}"
            if isinstance(node, ast.Import):
                assert all(a.name != "boonamber" for a in node.names), f"{path} imports boonamber"


def test_shared_modules_use_the_standard_library_only() -> None:
    for name in SHARED:
        for module in imported_modules(PACKAGE / name):
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or top == "__future__", f"{name}: {module}"


def test_the_version_lives_in_one_place() -> None:
    import boonamber
    import boonamber.v2
    from boonamber._version import __version__

    assert boonamber.__version__ == __version__
    assert importlib.metadata.version("boonamber") == __version__
    # the generated client carries the release (scripts/regen.sh strips .devN and the like)
    release = re.match(r"[0-9]+(?:\.[0-9]+)*", __version__)
    assert release is not None and boonamber.v2.__version__ == release.group(0)
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "boonamber._version.__version__"}
    config = yaml.safe_load((PACKAGE.parent / "openapi/generator/config.yaml").read_text())
    assert "packageVersion" not in config
