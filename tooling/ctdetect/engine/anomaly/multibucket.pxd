# Cython augmenting declarations for multibucket.py (see accelerated.py): the same code, typed.
import cython

cdef class MultiBucketMean:
    cdef public list window

    cpdef add(self, object bucket, double residual, double weight)

    @cython.locals(num=cython.double, den=cython.double, cnt=cython.double, g=cython.double,
                   r=cython.double, w=cython.double, gs=list)
    cpdef object value(self)
