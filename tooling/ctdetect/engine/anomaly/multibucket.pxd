# Cython augmenting declarations for multibucket.py (see accelerated.py): the same code, typed.
import cython

cpdef double _geometric(object age)

cdef class MultiBucketMean:
    cdef public list window

    cpdef add(self, object bucket, double residual, double weight)

    @cython.locals(num=cython.double, den=cython.double, cnt=cython.double, g=cython.double,
                   r=cython.double, w=cython.double, e=list, gs=list)
    cpdef object value(self)
