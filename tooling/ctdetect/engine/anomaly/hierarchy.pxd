# Cython augmenting declarations for hierarchy.py (see accelerated.py): the same code
# compiled; its dataclasses stay Python classes.
import cython


@cython.locals(population=dict, out=list)
cpdef list group_keys(list leaves, dict specs)
@cython.locals(n=cython.Py_ssize_t, groups=dict, per_detector=dict, det_ps=list)
cpdef tuple _aggregate_idx(object idx, list probs, list keys, dict specs, dict group_cache)
# the per-node glue: containers and indices typed (direct list and dict calls, C loop
# indices), the probabilities and scores left the Python floats they are
@cython.locals(key=tuple, hit=tuple, i=cython.Py_ssize_t)
cpdef object _node(list idx, list probs, list raws, list keys, dict specs, dict cache, dict group_cache)
@cython.locals(n=cython.Py_ssize_t, i=cython.Py_ssize_t, probs=list, keys=list, cache=dict, group_cache=dict,
               part_members=dict, infl_members=dict, partitions=dict, influencers=dict, by_field=dict,
               influencer_fields=dict, written=list, weighed_keys=set, members=list, idx=list)
cpdef object build(list leaves, dict specs, object raws=*)
