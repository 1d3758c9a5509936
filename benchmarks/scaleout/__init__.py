"""Scale-out benchmark: 1, 2 and 4 webhook workers, each capped at the same CPU quota in a
cgroup of its own, on one PostgreSQL database behind a round-robin proxy (issue 25).

    python -m benchmarks.scaleout            # the workers, alternated rounds, medians
    python -m benchmarks.scaleout.growth     # an update's and the sweeper's cost at 100k / 1M
"""
