"""Export files for Elastic's own tools: the ML bundle (requests JSON, Dev Tools console
text) and the ATT&CK Navigator layer. ``services.export`` writes them."""
