"""The two loops every experiment uses: the DARTS search and the training of a discrete network."""
