# Cython augmenting declarations for detectors/base.py (see accelerated.py): the module
# compiled as it is, Leaf a cdef class (every detector makes one per entity per bucket);
# DetectorModel stays a Python class (the detectors subclass it). A cdef class holds only
# the attributes declared here: an attribute added to Leaf needs its line here too.


cdef class Leaf:
    cdef public object detector_index, partition_value, by_value, over_value, probability, actual, typical
    cdef public object influencers, explanation, causes, multi_bucket_impact, influence
