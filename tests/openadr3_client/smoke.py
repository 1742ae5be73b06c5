"""The openadr3-client venv works: the package imports and builds a 3.1 BL client (no request made).

Run by tests/unit/test_openadr_client_venv.py with .venv-openadr3's Python: ``smoke.py <vtn base url>``.
"""

import importlib.metadata
import json
import sys

from openadr3_client.bl.http_factory import BusinessLogicHttpClientFactory
from openadr3_client.version import OADRVersion


def main(vtn_base_url: str) -> None:
    # token_url=None would make the factory call the VTN's discovery endpoint (GET /auth/server) at
    # once; an explicit one keeps this offline (tokens are only fetched on a first request).
    client = BusinessLogicHttpClientFactory.create_http_bl_client(
        vtn_base_url=vtn_base_url,
        client_id="x",
        client_secret="y",
        token_url=f"{vtn_base_url}/auth/token",
        allow_insecure_http=True,
        version=OADRVersion.OADR_310,
    )
    print(
        json.dumps(
            {
                "ok": True,
                "client_version": importlib.metadata.version("openadr3-client"),
                "client_class": type(client).__name__,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
