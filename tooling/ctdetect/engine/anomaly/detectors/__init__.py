"""One model class per detector family; ``make_detector`` picks it from the detector spec."""

from __future__ import annotations

from ctdetect.engine.anomaly.config import DetectorSpec, JobSpec
from ctdetect.engine.anomaly.detectors.base import DetectorModel, Leaf


def make_detector(job: JobSpec, spec: DetectorSpec) -> DetectorModel:
    """The model that emulates ``spec.function`` (individual or population)."""
    if spec.function in ("rare", "freq_rare"):
        if spec.is_population:
            from ctdetect.engine.anomaly.detectors.population import PopulationRare

            return PopulationRare(job, spec)
        from ctdetect.engine.anomaly.detectors.rare import IndividualRare

        return IndividualRare(job, spec)
    from ctdetect.engine.anomaly.detectors.counting import CountingDetector

    return CountingDetector(job, spec)


__all__ = ["DetectorModel", "Leaf", "make_detector"]
