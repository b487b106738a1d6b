"""Meta-learning for MetaNAS / LAMANAS: the K-step task learner, Reptile (the report's experiments) and
functional MAML over (theta, alpha) (the body of the report's Algorithm 1, INCONSISTENCIES #1)."""
