# Cython augmenting declarations for gain.py (see accelerated.py): the same code, typed.
# The times stay Python objects in _shift_origin: its floor division is Python's.
import cython


cdef class GainController:
    cdef public double origin_s, amp_n, amp_mean
    cdef public list line

    cpdef clear(self)
    cpdef double gain(self)
    cpdef double share(self, object in_use)
    @cython.locals(n=cython.double, mt=cython.double, mtt=cython.double, my=cython.double, mty=cython.double,
                   var_t=cython.double)
    cpdef double slope(self)
    @cython.locals(amplitude=cython.double, p=cython.double)
    cpdef _add_amplitude(self, object predictions)
    cpdef seed(self, object predictions)
    @cython.locals(t=cython.double, line=list, w=cython.double, a=cython.double, y=cython.double)
    cpdef add(self, double t_s, list predictions)
    @cython.locals(origin=cython.double, d=cython.double, line=list, mt=cython.double, mtt=cython.double,
                   my=cython.double, mty=cython.double)
    cpdef _shift_origin(self, object t_s)
    cpdef age(self, double factor)
    cpdef list to_state(self)
