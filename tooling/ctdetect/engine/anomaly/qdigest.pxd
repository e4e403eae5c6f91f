# Cython augmenting declarations for qdigest.py (see accelerated.py): the same code, its two
# classes cdef classes so that the walks over the tree read a node's fields from its C
# struct instead of looking each attribute up by name. A cdef class holds only the
# attributes declared here: an attribute added in qdigest.py needs its line here too
# (tests/anomaly/test_compiled_agrees.py fails until it has one). The integers (ranges,
# counts) stay Python objects: their floor division and arithmetic are Python's.
# take_descendants (its sort key is a lambda) and pre_order (a generator) stay def methods.
import cython


cdef class _Node:
    cdef public object lo, hi, count, subtree
    cdef public _Node parent
    cdef public list children
    cdef public bint alive

    cpdef object span(self)
    cpdef bint is_left_child(self)
    cpdef bint contains(self, object lo, object hi)
    cpdef bint is_parent_of(self, _Node node)
    @cython.locals(children=list, a=cython.Py_ssize_t, b=cython.Py_ssize_t, mid=cython.Py_ssize_t, c=_Node)
    cpdef Py_ssize_t _index(self, object hi, object span)
    @cython.locals(i=cython.Py_ssize_t, c=_Node)
    cpdef _Node sibling(self, _Node node)
    @cython.locals(node=_Node, nxt=_Node, c=_Node, new=_Node, i=cython.Py_ssize_t)
    cpdef _Node insert(self, object lo, object hi, object count, object subtree)
    @cython.locals(parent=_Node)
    cpdef detach(self)
    @cython.locals(anc=_Node, sib=_Node, is_parent=cython.bint)
    cpdef _Node compress(self, object factor)
    @cython.locals(stack=list, node=_Node)
    cpdef post_order(self, list out)
    @cython.locals(c=_Node)
    cpdef object age(self, object factor)


cdef class QDigest:
    cdef public object k, n, decay_rate
    cdef public _Node root
    cdef public dict _leaves

    @cython.locals(leaf=_Node, node=_Node, expanded=cython.bint)
    cpdef add(self, object value, object count=*)
    @cython.locals(leaf=_Node)
    cpdef bint holds_leaf(self, object value)
    @cython.locals(root=_Node, top=_Node)
    cpdef bint _expand(self, object value)
    @cython.locals(nodes=list)
    cpdef _compress_all(self)
    @cython.locals(heap=list, compressed=cython.bint, node=_Node, merged=_Node)
    cpdef bint _compress(self, list nodes)
    @cython.locals(node=_Node, c=_Node)
    cpdef object quantile(self, object q)
    @cython.locals(stack=list, node=_Node)
    cpdef tuple _cdf_counts(self, object x)
    @cython.locals(c=_Node)
    cpdef object _sublevel_set_supremum(self, _Node node, object x, object result)
    @cython.locals(c=_Node)
    cpdef object _superlevel_set_infimum(self, _Node node, object x, object result)
    @cython.locals(nodes=list, node=_Node, out=list)
    cpdef list summary(self)
