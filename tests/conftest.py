"""Fixtures for every test folder: consumer settings with auth for every vendor, as a file."""

from __future__ import annotations

import pytest

# Each vendor with the auth it documents; targets are placeholders, --consumer replaces them.
AUTH_SETTINGS = """\
vendors:
  komo:
    target: http://127.0.0.1:9/komo
    auth: {type: bearer, token: t0ken}
  fabric:
    target: http://127.0.0.1:9/fabric
    auth: {type: api-key, value: k3y}
  rebilly:
    target: http://127.0.0.1:9/rebilly
    auth: {type: digest, username: merchant, password: pa55}
  punchh:
    target: http://127.0.0.1:9/punchh
    auth: {type: hmac-sha256, client: acme_pos, secret: s3cret}
"""


@pytest.fixture(scope="session")
def settings_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("settings") / "consumer.yaml"
    path.write_text(AUTH_SETTINGS)
    return str(path)
