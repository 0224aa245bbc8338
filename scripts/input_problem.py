"""Fail with the message of a bad input found while the workflow was planned."""

from hippoflow.errors import InputError
from hippoflow.logs import run_job


def main(sm, log):
    raise InputError(sm.params.message)


run_job(main, snakemake)  # noqa: F821
