"""coupon-emulator: an offline emulator of coupon vendors' webhooks and a contract-test harness."""

import os

__version__ = "0.1.0"

# Vendors beyond the built-in ones: ``module:Class`` names, separated by commas, that the catalogue
# (``emulator.core.catalogue``) imports and lists. Read here, once, so the pure core reads no
# environment.
VENDORS_VAR = "COUPON_EMULATOR_VENDORS"
EXTRA_VENDORS: tuple[str, ...] = tuple(
    spec.strip() for spec in os.environ.get(VENDORS_VAR, "").split(",") if spec.strip()
)
