"""Structural plasticity of hidden units (Dense, Grow, Prune) with winning-ticket retraining.

The package holds all logic; workflow/scripts/* are thin Snakemake entry points into it. Submodules are
imported explicitly (no imports here), so the analysis environment needs no torch.
"""
