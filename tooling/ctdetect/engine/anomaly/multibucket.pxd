# Cython augmenting declarations for multibucket.py (see accelerated.py): the same code, typed.
import cython

cpdef double _geometric(object age)
cdef tuple _CORRELATIONS, _CONSECUTIVE_SUMS

cdef class MultiBucketMean:
    cdef public list window

    cpdef add(self, object bucket, double residual, double weight)

    @cython.locals(num=cython.double, den=cython.double, cnt=cython.double, g=cython.double,
                   r=cython.double, w=cython.double, e=list, window=list, n=cython.Py_ssize_t,
                   i=cython.Py_ssize_t, consecutive=cython.bint, total=cython.double)
    cpdef object value(self)
    @cython.locals(n=cython.Py_ssize_t)
    cpdef double correlation(self)
