"""hippoflow: computation behind the hippoflow Snakemake workflow.

Every module here is importable and testable without Snakemake; the workflow's
scripts are thin adapters around these functions.
"""

__version__ = "0.1.0"
