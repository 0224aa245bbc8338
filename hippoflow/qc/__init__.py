"""Quality-control figures, tables and the provenance page (rules/qc.smk, the QC rules of
rules/sorting.smk and rules/report.smk); ``steps`` holds one function per rule."""
