"""The generated client as the facade uses it: a per-client Configuration and an ApiClient
with the facade's User-Agent. Imported by the transports when they first need them.
"""

from __future__ import annotations

import urllib3

from boonamber._version import __version__
from boonamber.facade.credentials import Settings
from boonamber.v2.api_client import ApiClient
from boonamber.v2.configuration import Configuration

__all__ = ["TracingApiClient", "build_configuration"]


class TracingApiClient(ApiClient):
    """The generated ``ApiClient`` with the facade's User-Agent."""

    def __init__(self, configuration: Configuration) -> None:
        super().__init__(configuration)
        self.user_agent = f"boonamber/{__version__} (python; facade)"


def build_configuration(host: str, settings: Settings) -> Configuration:
    """A fresh generated ``Configuration`` for ``host`` (never the process-global default)."""
    config = Configuration(host=host)
    config.verify_ssl = settings.verify is not False
    if isinstance(settings.verify, str):
        config.ssl_ca_cert = settings.verify
    if isinstance(settings.cert, tuple):
        config.cert_file, config.key_file = settings.cert
    elif settings.cert is not None:
        config.cert_file = settings.cert
    config.proxy = settings.proxy  # the setter stops Configuration re-reading os.environ
    config.no_proxy = settings.no_proxy
    # Retries are the facade's job (RetryPolicy); redirects are returned as errors.
    config.retries = urllib3.Retry(total=0, redirect=False)
    return config
