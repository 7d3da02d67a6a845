"""coupon-emulator: an offline emulator of coupon vendors' webhooks and a contract-test harness."""

__version__ = "0.1.0"
