"""The package version, in one place: read by pyproject.toml (at build time),
``boonamber.__version__``, the client's User-Agent and ``scripts/regen.sh``."""

__version__ = "2.1.0.dev0"
