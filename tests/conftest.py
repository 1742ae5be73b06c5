"""Suite-wide pytest configuration. Fixture modules are plugins listed here."""

pytest_plugins = [
    "tests.fixtures.infra",
]
