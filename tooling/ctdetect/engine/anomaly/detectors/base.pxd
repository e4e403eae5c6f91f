# Cython augmenting declarations for detectors/base.py (see accelerated.py): the module
# compiled as it is, Leaf a cdef class (every detector makes one per entity per bucket);
# DetectorModel stays a Python class (the detectors subclass it). A cdef class holds only
# the attributes declared here: an attribute added to Leaf needs its line here too.
import cython


cdef class Leaf:
    cdef public object detector_index, partition_value, by_value, over_value, probability, actual, typical
    cdef public object influencers, explanation, causes, multi_bucket_impact, influence


# every leaf's influencers (rare, population and count leaves): the names a list, the loop
# index a C integer; the values stay what the events gave
@cython.locals(i=cython.Py_ssize_t, one=dict)
cpdef dict merge_influencers(list names, object tuples)
