"""Thin library behind the LAMANAS / LNAS companion book, in three layers.

The science (what the reports describe; no files, no tables):
    ``darts``     search space, supernet, genotypes, architecture gradients, FLOPs
    ``meta``      MetaNAS / LAMANAS: task learner, Reptile, MAML, learned loss networks, loss landscapes
    ``pruning``   lottery-ticket weight masks and architecture-path pruning
    ``data``      CIFAR-10, Omniglot few-shot tasks, synthetic stand-ins
    ``training``  the search loop, the training loop, evaluation
    ``experiments`` typed configs with profiles and sweeps; one function per algorithm, returning records
The pipeline (how runs are executed, cached and traced):
    ``pipeline``  results cache, atomic writes, checkpoints, provenance, the runner, devices, notebooks
The report (what the book shows):
    ``report``    reported-vs-reproduced tables, source lines, the scorecard
    ``plots``     every figure, in one shared style
Imports point downwards only: report -> pipeline / experiments -> science.
"""
