"""python -m hippoflow.estimate on a tiny generated tree: job and submission counts against
Snakemake's own dry run with the cluster profile, bytes and time against hand-worked numbers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hippoflow.estimate import estimate
from hippoflow.estimate.__main__ import main
from hippoflow.synth import day as gen

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
FS = 30000
# session01 10 s, sessioneye 5 s; 2 electrodes + the generator's 2 analog inputs in the file
N1, N2, CH, FILE_CH = 10 * FS, 5 * FS, 2, 4


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("est")
    opts = gen.Options(out=root / "data", channels=CH, seconds=10.0, eye_seconds=5.0, seed=2)
    gen.generate(opts, log=lambda *_: None)
    # hand-stated rates, prices and cluster: every number of the prediction follows from these
    rates = root / "rates.json"
    rates.write_text(
        json.dumps(
            {
                "job_start_s": 1.0,
                "slurm_overhead_s": 10.0,
                "default_job_s": 2.0,
                "seconds_per_job": {},
                "seconds_per_channel_hour": {
                    "rplsplit": 120.0,
                    "rpllfp": 240.0,
                    "rplhighpass": 240.0,
                    "sort": 360.0,
                },
                "split_size_ratio": {"none": 1.0},
                "nwb_size_ratio": 0.5,
            }
        )
    )
    cluster = root / "cluster.yaml"
    cluster.write_text(
        yaml.safe_dump(
            {
                "HeadNode": {"InstanceType": "m6i.large"},
                "Scheduling": {
                    "SlurmQueues": [
                        {
                            "Name": "light",
                            "ComputeResources": [
                                {"Name": "c", "InstanceType": "c6i.2xlarge", "MaxCount": 2}
                            ],
                        }
                    ]
                },
                "SharedStorage": [
                    {
                        "Name": "data",
                        "StorageType": "Ebs",
                        "MountDir": "/data",
                        "EbsSettings": {"Size": 1000, "Throughput": 125},
                    }
                ],
            }
        )
    )
    return root, rates, cluster


@pytest.fixture(scope="module")
def dry_run(tree):
    root, _, _ = tree
    done = subprocess.run(
        [
            SNAKEMAKE,
            "-n",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--configfile",
            str(REPO / "config" / "config.yaml"),
            "--profile",
            str(REPO / "profiles" / "pcluster"),
            "--config",
            f"data_root={root / 'data'}",
            f"output_root={root / 'out'}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout + done.stderr
    block = text[text.index("Job stats:") :].splitlines()[3:]
    stats = {}
    for line in block:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        stats[parts[0]] = int(parts[1])
    groups = yaml.safe_load((REPO / "profiles/pcluster/config.yaml").read_text())["groups"]
    jobs = sum(v for k, v in stats.items() if k != "all")
    ungrouped = sum(v for k, v in stats.items() if k not in groups and k != "all")
    return jobs, ungrouped, text


def test_jobs_and_submissions_match_the_dry_run(tree, dry_run):
    root, rates, cluster = tree
    jobs, ungrouped, text = dry_run
    r = estimate(root / "data", REPO / "profiles" / "pcluster", "default", cluster, rates=rates)
    assert r["total"]["jobs"] == jobs
    n_groups = len(re.findall(r"Group job (\w+)", text))
    assert r["total"]["submissions"] == ungrouped + n_groups


def hand_sizes(data: Path) -> tuple[float, ...]:
    """.ns5 data, split (= high-pass), LFP bytes from the generator's lengths; .nev and
    behaviour bytes from the files on disk."""
    raw = 2 * (N1 + N2) * FILE_CH
    f32 = 4 * (N1 + N2) * CH  # one float32 file per channel and session
    nev = sum(p.stat().st_size for p in data.rglob("*.nev"))
    # the behaviour jobs' raw files: EyeLink (.asc here) and Unity logs, read once each
    behaviour = sum(p.stat().st_size for p in data.rglob("*.asc"))
    behaviour += sum(p.stat().st_size for p in data.glob("*/*/session*/RawData*/session*.txt"))
    assert nev > 0 and behaviour > 0
    return raw, f32, f32 / 30, nev, behaviour


def test_bytes_time_and_dollars_by_hand(tree, dry_run):
    root, rates, cluster = tree
    jobs = dry_run[0]
    r = estimate(root / "data", REPO / "profiles" / "pcluster", "default", cluster, rates=rates)
    t = r["total"]
    raw, f32, lfp, nev, behaviour = hand_sizes(root / "data")
    nwb = 0.5 * lfp  # the NWB files (rates' nwb_size_ratio), written; they read the LFP
    # default: .ns5 read; split written and read twice; high-pass written and read; LFP
    # written and read by qc_lfp and the NWB export; .nev read by rplparallel and hashed
    assert t["shared_bytes"] == pytest.approx(
        raw + 3 * f32 + 2 * f32 + 3 * lfp + nwb + 2 * nev + behaviour
    )
    assert t["storage_bytes"] == pytest.approx(raw + nev + behaviour + 2 * f32 + lfp + nwb)
    ch_hours = CH * (N1 + N2) / FS / 3600
    core_s = jobs * (1 + 2) + ch_hours * (120 + 240 + 240 + 360)
    assert t["core_hours"] == pytest.approx((core_s + 10 * t["submissions"]) / 3600)
    # m6i.large head node: EBS 81.25 MB/s < network 97.6 MB/s < gp3 125 MB/s
    assert t["shared_throughput_bps"] == pytest.approx(81.25e6)
    io = t["shared_bytes"] / 81.25e6
    cpu = (core_s + 10 * t["submissions"]) / 16  # 2 x c6i.2xlarge
    # the longest Slurm job, run on one core, + its submission: the sortchan group of the day's
    # 2 day-channels (sort, curate, waveform_templates each), the chanfilter group of the day's
    # 4 high-pass jobs (2 sessions x 2 channels) or the first session's LFP job (ungrouped)
    sortchan = 6 * (1 + 2) + 360 * ch_hours + 10
    chanfilter = 4 * (1 + 2) + 240 * ch_hours + 10
    lfp_session = (1 + 2) + 240 * CH * N1 / FS / 3600 + 10
    longest = max(sortchan, chanfilter, lfp_session)
    assert t["longest_submission_s"] == pytest.approx(longest)
    assert t["wall_s"] == pytest.approx(max(io, cpu, longest))
    # both nodes stay up for the wall time; head node and the 1000 GB gp3 volume ($0.08/GB-month)
    assert t["node_hours"] == pytest.approx(2 * t["wall_s"] / 3600)
    hours = t["wall_s"] / 3600
    assert t["usd_on_demand"] == pytest.approx(
        t["node_hours"] * 0.34 + 0.096 * hours + 1000 * 0.08 / 730 * hours
    )
    local = estimate(
        root / "data", REPO / "profiles" / "pcluster", "nodelocal", cluster, rates=rates
    )
    assert local["total"]["shared_bytes"] == pytest.approx(
        raw + 3 * lfp + nwb + 2 * nev + behaviour
    )
    # without the digests and the NWB export: the .nev read once, no NWB file, LFP read once
    bare = estimate(
        root / "data",
        REPO / "profiles" / "pcluster",
        "nodelocal",
        cluster,
        rates=rates,
        config={"nwb": {"enabled": False}, "report": {"input_digests": False}},
    )
    assert bare["total"]["shared_bytes"] == pytest.approx(raw + 2 * lfp + nev + behaviour)


def test_cli_prints_days_and_total(tree, capsys):
    root, rates, cluster = tree
    assert (
        main(
            [
                "--data-root",
                str(root / "data"),
                "--cluster-file",
                str(cluster),
                "--rates",
                str(rates),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "picasso/20181105" in out and "total" in out and "on-demand" in out and "spot" in out


def test_cli_reads_the_config_file(tree, tmp_path, capsys):
    root, rates, cluster = tree
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "data_root: elsewhere\nnwb:\n  enabled: false\nreport:\n  input_digests: false\n"
    )
    args = ["--data-root", str(root / "data"), "--cluster-file", str(cluster), "--rates"]
    args += [str(rates), "--mode", "nodelocal", "--json"]
    assert main([*args, "--configfile", str(cfg)]) == 0
    off = json.loads(capsys.readouterr().out)["total"]
    raw, _, lfp, nev, behaviour = hand_sizes(root / "data")
    assert off["shared_bytes"] == pytest.approx(raw + 2 * lfp + nev + behaviour)
    # the repository's config (the default) keeps the NWB export and the digests on
    assert main(args) == 0
    on = json.loads(capsys.readouterr().out)["total"]
    assert on["shared_bytes"] == pytest.approx(raw + 3.5 * lfp + 2 * nev + behaviour)
    assert on["jobs"] - off["jobs"] == 2  # the two sessions' nwb jobs
    with pytest.raises(SystemExit) as stop:  # argparse's error: usage, the file, the cause
        main([*args, "--configfile", str(tmp_path / "none.yaml")])
    assert stop.value.code == 2 and "none.yaml: [Errno 2]" in capsys.readouterr().err


def test_nodelocal_day_runs_its_stages_on_the_profiles_cores(tree):
    """profiles/pcluster-nodelocal (cores 8): the day is one Slurm job on min(8, 4 high-pass
    jobs) = 4 CPUs, its stages one after the other, each its CPU seconds over the CPUs it can
    use or its mean longest job. With the hand rates (start 1 s + 2 s a job; 2 channels x 15 s
    = 1/120 channel-hour: split 1 s, LFP 2 s, high-pass 2 s, sort 3 s in all):
    split 2 jobs 7 s -> 3.5 s; LFP 2 jobs 8 s + high-pass 4 jobs 14 s -> 22 / 4 = 5.5 s;
    qc_lfp 2 jobs 6 s + sort 2 jobs 9 s -> longest sort 4.5 s; curate 2 jobs 6 s -> 3 s;
    templates 2 jobs 6 s + metrics 1 job 3 s -> 3 s: 19.5 s, + 10 s Slurm overhead."""
    root, rates, cluster = tree
    profile = REPO / "profiles" / "pcluster-nodelocal"
    local = {"intermediates": {"node_local_dir": "/scratch/hippoflow"}}  # as the profile needs
    r = estimate(root / "data", profile, "nodelocal", cluster, rates=rates, config=local)
    assert r["total"]["longest_submission_s"] == pytest.approx(19.5 + 10)
    # the same day one after the other on one core: every member's seconds, + 10 s
    one = root / "one-core.yaml"
    text = (profile / "config.yaml").read_text().replace("\ncores: 8 ", "\ncores: 1 ")
    one.write_text(text)
    serial = estimate(root / "data", one, "nodelocal", cluster, rates=rates, config=local)
    assert serial["total"]["longest_submission_s"] == pytest.approx(
        7 + 8 + 14 + 6 + 9 + 6 + 6 + 3 + 10
    )


def test_fields_are_priced_per_navigation_hour(tree, tmp_path):
    """The fields' rates apply to the navigation sessions' hours only (session01 here, not
    sessioneye): per channel-hour for the fields jobs, per session-hour for fields_samples."""
    root, rates, cluster = tree
    base = estimate(root / "data", REPO / "profiles" / "pcluster", "default", cluster, rates=rates)
    more = json.loads(rates.read_text())
    more["seconds_per_navigation_channel_hour"] = {"fields": 3600.0}
    more["seconds_per_navigation_hour"] = {"fields_samples": 7200.0}
    priced = tmp_path / "rates.json"
    priced.write_text(json.dumps(more))
    r = estimate(root / "data", REPO / "profiles" / "pcluster", "default", cluster, rates=priced)
    nav_hours = N1 / FS / 3600
    added = 3600.0 * CH * nav_hours + 7200.0 * nav_hours
    assert r["total"]["core_hours"] - base["total"]["core_hours"] == pytest.approx(added / 3600)
