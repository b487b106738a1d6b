"""The reproduction scorecard: every quantitative claim of both reports, judged from the cached runs."""
