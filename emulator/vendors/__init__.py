"""The vendors, one package each: builders, envelope, dedupe key, delivery profile, JSON Schemas
(``<slug>/schemas/``) and every other fact of that vendor. Part of the pure core (see
``emulator.core``); the protocol they implement is ``emulator.core.vendor.Vendor``, and
``emulator.core.catalogue`` lists them."""
