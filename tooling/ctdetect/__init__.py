"""ctdetect: detection-as-code for AWS CloudTrail threats on the Elastic Stack.

Layers (data flows down, nothing flows up), see docs/ARCHITECTURE.md:
cli -> services -> backends -> engine -> query -> ecs -> content.
"""

__version__ = "0.1.0"
