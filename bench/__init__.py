"""Benchmarks: figures as ratios to ceilings measured on the same machine in the same run."""
