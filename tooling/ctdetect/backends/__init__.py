"""Backends run a package over events and return findings.

``embedded`` runs in-process (no server); ``elasticsearch`` drives a real cluster.
Both implement ``Backend`` (``base``) and return the same ``Finding`` shapes.
"""
