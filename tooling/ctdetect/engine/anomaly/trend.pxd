# Cython augmenting declarations for trend.py (see accelerated.py): the same code, typed.
# ``libm``: the .py's ``import math as libm`` names C's libm here (see priors.LIBM_NOTE).
import cython
cimport libc.math as libm

cdef double SUM_MODEL_WEIGHTS

cdef double _TWO_PI_3

@cython.locals(p1=cython.double, q=cython.double, p2=cython.double, p=cython.double, ba=cython.double,
               bd=cython.double, bf=cython.double, bb=cython.double, bc=cython.double, be=cython.double,
               r=cython.double, phi=cython.double, e1=cython.double, e3=cython.double)
cpdef (double, double, double) _sym3_eigenvalues(double a, double b, double c, double d, double e, double f)


@cython.locals(lo=cython.double, hi=cython.double)
cpdef bint _condition_ok(double e1, double e2, double e3)


cdef class Regression:
    cdef public double n, s0, s1, s2, s3, s4, s5, s6, s7, c0, c1, c2
    cdef public bint solved

    @cython.locals(a=cython.double, t2=cython.double)
    cpdef add(self, double t, double y, double w)
    cpdef _set(self, list s)
    cpdef age(self, double factor)
    cpdef shift_level(self, double d)
    cpdef tuple params(self)
    @cython.locals(m00=cython.double, m01=cython.double, m02=cython.double, m11=cython.double,
                   m12=cython.double, m22=cython.double, y0=cython.double, y1=cython.double, y2=cython.double,
                   c00=cython.double, c01=cython.double, c02=cython.double, det=cython.double, c11=cython.double,
                   c12=cython.double, c22=cython.double, tr=cython.double, det2=cython.double, disc=cython.double,
                   e1=cython.double, e2=cython.double, e3=cython.double)
    cpdef _solve(self)
    cpdef double predict(self, double t)


cdef class TrendComponent:
    cdef public double rate
    cdef public object first_s, last_s
    cdef public double origin_s
    cdef public list models
    cdef public double error_variance, values_n, values_mean, values_m2
    cdef public object _memo

    cpdef bint initialized(self)
    @cython.locals(num=cython.double, i=cython.Py_ssize_t, m=Regression)
    cpdef double count(self)
    cpdef double _scaled(self, double t_s)
    @cython.locals(origin=cython.double, shift=cython.double, m=Regression)
    cpdef _follow_origin(self, double t_s)
    cpdef double _weight_of_prediction(self, double t_s)
    cpdef double value(self, double t_s)
    @cython.locals(a=cython.double, cut=cython.double, x=cython.double, num=cython.double, den=cython.double,
                   w=cython.double, m=Regression, weights=tuple, models=list, i=cython.Py_ssize_t)
    cpdef double _value(self, double t_s)
    @cython.locals(m=Regression)
    cpdef shift_level(self, double d)
    @cython.locals(prediction=cython.double, n=cython.double, n1=cython.double, d=cython.double,
                   x=cython.double, m=Regression)
    cpdef add(self, double t_s, double y, double w)
    @cython.locals(m=Regression, factors=tuple, models=list, i=cython.Py_ssize_t)
    cpdef age(self, double dt_s)
