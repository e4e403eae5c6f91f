"""Engines: rule evaluation with Kibana's semantics (``rules``) and the emulation of
Elastic ML anomaly detection (``anomaly``). Nothing is imported here, so importing one
engine never pays for the other."""
