"""waveform_templates: a day-channel's sorted templates where PyHipp's Waveform reads them."""

from hippoflow.logs import run_job
from hippoflow.sorting.steps import waveform_templates


def main(sm, log):
    waveform_templates(sm.input.sort, sm.output[0], log=log)


run_job(main, snakemake)  # noqa: F821
