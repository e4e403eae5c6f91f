# Cython augmenting declarations for hierarchy.py (see accelerated.py): the same code
# compiled; BucketHierarchy stays a Python dataclass (one a bucket), Node and Groups are
# cdef classes (a Node per partition and influencer value of every bucket). A cdef class
# holds only the attributes declared here: an attribute added in hierarchy.py needs its
# line here too. The scores and probabilities stay the Python objects they are.
import cython

from ctdetect.engine.anomaly.detectors.base cimport Leaf


cdef class Node:
    cdef public object raw, probability, smallest
    cdef public bint written
    cdef public list children


cdef class Groups:
    cdef public list of_leaf, detector, population

    cpdef Groups of(self, list idx)


@cython.locals(n=cython.Py_ssize_t, of_leaf=list, members_of=dict, members=list, detector=list, per_detector=dict,
               gidx=list, ps=list, det_ps=list)
cpdef tuple _aggregate_idx(list idx, list probs, Groups groups, dict group_cache)
# the per-node glue: containers and indices typed (direct list and dict calls, C loop
# indices), the probabilities and scores left the Python floats they are
@cython.locals(key=tuple, hit=tuple, i=cython.Py_ssize_t)
cpdef Node _node(list idx, list probs, list raws, Groups groups, dict cache, dict group_cache)
@cython.locals(n=cython.Py_ssize_t, i=cython.Py_ssize_t, probs=list, groups=Groups, cache=dict, group_cache=dict,
               part_members=dict, infl_members=dict, partitions=dict, influencers=dict, by_field=dict,
               influencer_fields=dict, written=list, weighed_keys=set, members=list, idx=list, root=Node, node=Node,
               ancestor=Node, leaf=Leaf)
cpdef object build(list leaves, dict specs, object raws=*)
