# Bad inputs found while planning (hippoflow.plan records them; Plan.problem_targets): one
# failing job per problem, at the session, day or subject it concerns (or the output root's
# top for the run's own problems, e.g. a selected day that does not exist).


rule input_problem:
    # Fails on purpose: turns a problem found while planning into a failed job of its own.
    output:
        out("{problem}"),
    log:
        "logs/input_problem/{problem}.log",
    wildcard_constraints:
        problem=r"([^/]+/)*\.hippoflow-problem-[^/]+",
    localrule: True
    conda:
        "../envs/hippoflow.yaml"
    params:
        message=lambda wc: PLAN.problem_message(wc.problem),
    script:
        "../scripts/input_problem.py"
