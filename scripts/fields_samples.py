"""fields_samples: a navigation session's place and view samples, for every channel's fields."""

from hippoflow.fields.steps import fields_samples
from hippoflow.logs import run_job


def main(sm, log):
    inp = sm.input
    fields_samples(
        inp.unity,
        inp.get("bindata"),
        inp.get("eyelink"),
        sm.output.samples,
        sm.wildcards.session,
        sm.params.min_speed,
    )


run_job(main, snakemake)  # noqa: F821
