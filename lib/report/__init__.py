"""The report layer: reported-vs-reproduced tables, source lines under every table and figure, the scorecard."""
