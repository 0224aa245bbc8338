"""Shared storage: its throughput and price, and the bytes a day moves through it."""

from __future__ import annotations

from pathlib import Path


def storage_usd_per_hour(cluster: dict, prices: dict) -> float:
    """Dollars per hour of the cluster's shared storage while it exists (GB-month / 730 h)."""
    px = prices.get("storage", {})
    usd = 0.0
    for st in cluster["storage"]:
        if st["type"] == "FsxLustre":
            dep = str(st.get("deployment", "SCRATCH_2")).lower().replace("_", "")
            key = f"fsx_lustre_{dep}_{st['mbps_per_tib']}_usd_per_gb_month"
            rate = px.get(key, px.get(f"fsx_lustre_{dep}_usd_per_gb_month", 0.0))
        elif st["type"] == "Ebs":
            rate = px.get("ebs_gp3_usd_per_gb_month", 0.0)
        else:
            rate = 0.0
        usd += st.get("capacity_gb", 0) * float(rate) / 730.0
    return usd


def shared_throughput(cluster: dict, prices: dict) -> tuple[float, str]:
    """Sustained bytes/s of the shared storage that holds /data, and how it was found."""
    inst = prices["instances"]
    head = inst[cluster["head"]]
    for st in cluster["storage"]:
        if st["type"] == "FsxLustre":
            mbps = st["capacity_gb"] / 1024 * st["mbps_per_tib"]
            return (
                mbps * 1e6,
                f"FSx for Lustre {st['capacity_gb']} GB x {st['mbps_per_tib']} MB/s/TiB",
            )
    ebs = next((st for st in cluster["storage"] if st["type"] == "Ebs"), None)
    limits = [head["network_gbps"] * 1e9 / 8, head["ebs_mbps"] * 1e6]
    how = f"NFS from head node {cluster['head']}"
    if ebs:
        limits.append(ebs["mbps"] * 1e6)
    return min(limits), how


def _size(path) -> float:
    try:
        return float(Path(path).stat().st_size)
    except OSError:  # a dangling or unreadable file: a planning problem, no job reads it
        return 0.0


def day_bytes(
    lengths,
    plan,
    day,
    mode: str,
    split_ratio: float = 1.0,
    nwb_ratio: float | None = None,
    digests: bool = False,
    lfp_rate: float = 1000.0,
) -> dict[str, float]:
    """Bytes read and written on shared storage for one day, and bytes kept there.

    R (the ``.ns5``, read by the split), S (split and high-pass files, float32), L (LFP files
    at ``lfp_rate``: S / 30 at 1 kHz) as in docs/node-local.md: ``default`` moves R + 5 S +
    2 L (LFP written, read by qc_lfp), ``nodelocal`` R + 2 L. ``nwb_ratio`` (the NWB file's
    bytes per LFP byte; None: no NWB export) adds L (read) + W (written, kept). Every mode
    adds the ``.nev`` files (read by rplparallel, and hashed by the provenance page when
    ``digests``), and the Unity logs and EyeLink files (read once by their jobs). Sorts,
    markers, behaviour objects and figures are not counted (small next to these)."""
    raw = split_w = hp_w = lfp_w = 0.0
    for s in plan.neural_sessions():
        if (s.subject, s.day) != day:
            continue
        n, fs, n_file = lengths[s.key]
        c = len(s.channels)
        raw += 2.0 * n * n_file  # the .ns5 read once by the split
        split_w += 4.0 * n * c * split_ratio
        hp_w += 4.0 * n * c
        lfp_w += 4.0 * n * c * lfp_rate / fs
    nev = behaviour = 0.0
    for s in plan.sessions:
        if (s.subject, s.day) == day:
            nev += sum(_size(p) for p in s.nev)
            behaviour += sum(_size(p) for p in plan.unity_logs.get(s.key, ()))
    behaviour += sum(_size(p) for p in plan.navigation_eye_files(day))
    behaviour += sum(_size(p) for p in plan.fixation_eye_files(day))
    if mode == "nodelocal":
        moved = raw + 2 * lfp_w  # split and high-pass stay on the node
        kept = lfp_w
    else:
        # split: written, read by LFP and high-pass; high-pass: written once, read by the sort
        moved = raw + split_w * 3 + hp_w * 2 + 2 * lfp_w
        kept = split_w + hp_w + lfp_w
    if nwb_ratio is not None:
        moved += lfp_w + nwb_ratio * lfp_w
        kept += nwb_ratio * lfp_w
    moved += nev * (2 if digests else 1) + behaviour
    return {"raw": raw + nev + behaviour, "moved": moved, "kept": kept}
