# Cython augmenting declarations for hierarchy.py (see accelerated.py): the same code
# compiled; its dataclasses stay Python classes.
import cython


@cython.locals(population=dict, out=list)
cpdef list group_keys(list leaves, dict specs)
@cython.locals(n=cython.Py_ssize_t, groups=dict, per_detector=dict, det_ps=list)
cpdef tuple _aggregate_idx(object idx, list probs, list keys, dict specs, dict group_cache)
