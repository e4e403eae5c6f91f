# Cython augmenting declarations for seasonality.py (see accelerated.py): the same code, typed.
# The weekly test's group sums and leave-one-out errors run on C doubles and indices; each
# error is squared by Python's float power (``error`` an object), as the .py squares it.
import cython


@cython.locals(sums=list, weight_sums=list, counts=list, i=cython.Py_ssize_t, key=cython.Py_ssize_t,
               v=cython.double, w=cython.double, c=cython.double, total=cython.double, weight=cython.double)
cpdef tuple _slot_sums(list values, list keys, list weights, cython.Py_ssize_t size)
@cython.locals(sums=list, weight_sums=list, counts=list, i=cython.Py_ssize_t, key=cython.Py_ssize_t,
               v=cython.double, w=cython.double, c=cython.double, total=cython.double, n=cython.double,
               group_sum=cython.double, group_weight=cython.double, error=object)
cpdef double _loo(list values, list keys, list weights, cython.Py_ssize_t size)


# The window every count series adds each bucket's value to: its slot numbers C integers
# (times in ms: far inside 64 bits; the floor division and modulo keep Python's meaning),
# the sums and counts the .py's arrays.
cdef class SeasonalityWindow:
    cdef public long long slot_ms, slots, latest
    cdef public object sums, counts

    @cython.locals(k=cython.longlong, j=cython.longlong)
    cpdef add(self, object t_ms, double value)
