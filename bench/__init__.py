"""Benchmarks of PRODUCT.md section 9; `python -m bench [--quick] [--only NAME,...]` runs them."""
