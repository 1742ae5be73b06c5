"""The OpenADR 3.1 VTN facade, mounted at /openadr3/3.1.0 (docs/openadr.md)."""
