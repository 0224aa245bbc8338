# Bad inputs found while planning (hippoflow.plan records them; Plan.problem_targets).


rule input_problem:
    # Fails on purpose: turns a problem found while planning into a failed job of its own.
    output:
        out(f"{SESSION_DIR}/.hippoflow-problem-{{key}}"),
    log:
        "logs/input_problem/{subject}/{day}/{session}/{key}.log",
    localrule: True
    conda:
        "../envs/hippoflow.yaml"
    params:
        message=lambda wc: PLAN.problems[((wc.subject, wc.day, wc.session), wc.key)],
    script:
        "../scripts/input_problem.py"
