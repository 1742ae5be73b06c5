"""Suite-wide pytest configuration. Fixture modules are plugins listed here."""

pytest_plugins = [
    "pytester",  # tests/unit/test_skip_policy.py runs pytest on small test files
    "tests.fixtures.infra",
    "tests.fixtures.platform",
    "tests.fixtures.skips",
]
