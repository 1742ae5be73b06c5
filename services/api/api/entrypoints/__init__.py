"""HTTP: translate requests into use-case calls and results into the contract's JSON."""
