"""DARTS core shared by both reports: candidate ops, the supernet, genotypes, architecture gradients."""
