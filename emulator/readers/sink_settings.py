"""Settings aimed at the built-in sink: each vendor's target under ``/sink`` and the auth it uses there.

Each vendor signs as it would for a real consumer (our choice of auth, one of the vendor's
documented types) with the secret in ``COUPON_EMULATOR_SINK_SECRET``, by default ``quickstart``: the
sink is a stand-in consumer, and a known default lets ``run scenarios/quickstart.yaml`` reach it too.
Runs store the variable's name, never its value, like any ``${VAR}`` in settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.core import catalogue

PREFIX = "/sink"
SECRET_VAR = "COUPON_EMULATOR_SINK_SECRET"
DEFAULT_SECRET = "quickstart"
CLIENT = "coupon-emulator"
_SECRET = "${" + SECRET_VAR + ":-" + DEFAULT_SECRET + "}"
# The auth each vendor uses towards the sink: the strongest it documents. Komo documents none.
AUTH: Mapping[str, Mapping[str, str]] = {
    "komo": {"type": "none"},
    "fabric": {"type": "api-key", "header": "x-api-key", "value": _SECRET},
    "rebilly": {"type": "digest", "username": CLIENT, "password": _SECRET},
    "punchh": {"type": "hmac-sha256", "client": CLIENT, "secret": _SECRET},
}


def entries(base_url: str) -> dict[str, dict[str, Any]]:
    """Each vendor's settings entry aimed at the sink (``base_url`` is the service's own URL)."""
    root = base_url.rstrip("/") + PREFIX
    return {
        slug: {"target": f"{root}/{slug}", "auth": dict(AUTH.get(slug, {"type": "none"}))}
        for slug in catalogue.VENDORS
    }
