"""Core side of the corpus pipeline: stage builders, Parquet helpers, splits, DAPT blocks, report."""
