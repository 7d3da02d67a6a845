"""Settings aimed at the built-in sink: each vendor's target under ``/sink`` and the auth it uses there.

Each vendor signs as it would for a real consumer (our choice of auth, one of the vendor's
documented types) with the secret in ``COUPON_EMULATOR_SINK_SECRET``, by default ``quickstart``: the
sink is a stand-in consumer, and a known default lets ``run scenarios/quickstart.yaml`` reach it too.
Runs store the variable's name, never its value, like any ``${VAR}`` in settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from emulator.core import catalogue
from emulator.core.vendor import DeliveryProfile, Vendor

PREFIX = "/sink"
SECRET_VAR = "COUPON_EMULATOR_SINK_SECRET"
DEFAULT_SECRET = "quickstart"
CLIENT = "coupon-emulator"
_SECRET = "${" + SECRET_VAR + ":-" + DEFAULT_SECRET + "}"
# The credentials each auth type takes towards the sink, after the vendor's own ``sink_auth`` fields.
_CREDENTIALS: Mapping[str, Mapping[str, str]] = {
    "none": {},
    "api-key": {"value": _SECRET},
    "basic": {"username": CLIENT, "password": _SECRET},
    "bearer": {"token": _SECRET},
    "digest": {"username": CLIENT, "password": _SECRET},
    "hmac-sha1": {"client": CLIENT, "secret": _SECRET},
    "hmac-sha256": {"client": CLIENT, "secret": _SECRET},
}
# Strongest first: what a vendor that declares no ``sink_auth`` uses, among the types it documents.
_STRENGTH = ("hmac-sha256", "hmac-sha1", "digest", "api-key", "bearer", "basic", "none")


def default_auth(profile: DeliveryProfile) -> dict[str, str]:
    """The auth towards the sink of a vendor that declares none: the strongest type its profile
    documents; ``none`` when its auth types are our choice rather than documented."""
    if "auth_types" in profile.unverified:
        return {"type": "none"}
    known = [t for t in _STRENGTH if t in profile.auth_types]
    return {"type": known[0] if known else "none"}


def auth(vendor: Vendor) -> dict[str, str]:
    """The settings' ``auth`` of ``vendor`` towards the sink: its ``sink_auth``, credentials added."""
    declared = vendor.sink_auth or default_auth(vendor.profile)
    return {**declared, **_CREDENTIALS.get(declared["type"], {})}


# The auth each vendor uses towards the sink (the vendor's choice, see ``Vendor.sink_auth``).
AUTH: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {slug: MappingProxyType(auth(v)) for slug, v in catalogue.VENDORS.items()}
)


def entries(base_url: str) -> dict[str, dict[str, Any]]:
    """Each vendor's settings entry aimed at the sink (``base_url`` is the service's own URL)."""
    root = base_url.rstrip("/") + PREFIX
    return {
        slug: {"target": f"{root}/{slug}", "auth": auth(v)} for slug, v in catalogue.VENDORS.items()
    }
