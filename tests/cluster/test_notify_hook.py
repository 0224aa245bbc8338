"""The Snakefile's onsuccess/onerror handlers run `notify_command` (local runs, no Slurm;
the Slurm tests check the same on the cluster)."""

from __future__ import annotations

from .clusterutil import cut_last_marker, generate, run, snakemake_cmd

DAY = "20181105"


def _run(tmp_path, data, target, notice, *extra):
    out = tmp_path / "out"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    cmd = snakemake_cmd(
        "local",
        data,
        out,
        "--cores",
        "1",
        *extra,
        config=(f"notify_command=echo {{status}} {{log}} > {notice}",),
        targets=[str(out / "picasso" / DAY / target)],
    )
    return run(cmd, work)


def test_success_and_error_notices(tmp_path):
    data = generate(tmp_path, channels=1, seconds=20, sessions=2)
    ok_notice, bad_notice, dry_notice = (tmp_path / n for n in ("ok.txt", "bad.txt", "dry.txt"))

    dry = _run(tmp_path, data, "session01/rplparallel_d41d.hkl", dry_notice, "-n")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert not dry_notice.exists()  # no notice for a dry run

    done = _run(tmp_path, data, "session01/rplparallel_d41d.hkl", ok_notice)
    assert done.returncode == 0, done.stderr[-2000:]
    status, log = ok_notice.read_text().split()
    assert status == "success"
    assert log.endswith(".snakemake.log") and (tmp_path / "work" / log).exists()

    nev = next((data / "picasso" / DAY / "session02").glob("*.nev"))
    cut_last_marker(nev)  # broken event stream: the job fails
    failed = _run(tmp_path, data, "session02/rplparallel_d41d.hkl", bad_notice)
    assert failed.returncode != 0
    assert bad_notice.read_text().split()[0] == "error"
