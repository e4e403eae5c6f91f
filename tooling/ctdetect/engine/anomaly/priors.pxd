# Cython augmenting declarations for priors.py (see accelerated.py): the same code, typed.
# Arguments and attributes typed double only where the .py code only ever holds floats.
# ``libm``: the .py's ``import math as libm`` names C's libm here (see LIBM_NOTE in priors.py).
import cython
cimport libc.math as libm

cdef double _NEG_INF, _PI
cdef object _SPECIAL

cpdef object _special()
cdef Py_ssize_t _N_MODELS

cdef class NormalGamma:
    cdef public double mean, prec, shape, rate
    cdef public object _t, _lt
    cdef public double _lc

    cpdef bint informative(self)
    @cython.locals(prec=cython.double, d=cython.double)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    @cython.locals(df=cython.double, scale=cython.double)
    cpdef tuple t_params(self)
    @cython.locals(df=cython.double, s=cython.double)
    cpdef double variance(self)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double, z=cython.double, t=tuple)
    cpdef double logpdf(self, double y)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double)
    cpdef double cdf(self, double y, double vs=*)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double)
    cpdef double sf(self, double y, double vs=*)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double, r=cython.double, t=cython.double)
    cpdef tuple log_scaled(self, double vs)
    cpdef double mode(self)


cdef class _Component:
    cpdef bint informative(self)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    cpdef double logpdf(self, double y)
    cpdef double cdf(self, double y, double vs=*)
    cpdef double sf(self, double y, double vs=*)
    cpdef double mode(self)
    cpdef double variance(self)


cdef class NormalComponent(_Component):
    cdef public NormalGamma ng

    cpdef bint informative(self)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    cpdef double logpdf(self, double y)
    cpdef double cdf(self, double y, double vs=*)
    cpdef double sf(self, double y, double vs=*)
    cpdef double mode(self)
    cpdef double variance(self)


cdef class LogNormalComponent(_Component):
    cdef public NormalGamma ng
    cdef public double offset

    cpdef double _log(self, double y)
    cpdef bint informative(self)
    @cython.locals(u=cython.double)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    @cython.locals(u=cython.double)
    cpdef double logpdf(self, double y)
    cpdef double cdf(self, double y, double vs=*)
    cpdef double sf(self, double y, double vs=*)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double)
    cpdef double _scaled_tail(self, double y, double vs, double sign)
    @cython.locals(df=cython.double, loc=cython.double, s=cython.double)
    cpdef double mode(self)
    @cython.locals(loc=cython.double, s=cython.double, s2=cython.double)
    cpdef double variance(self)


cdef class GammaComponent(_Component):
    cdef public double offset, n, s1, s2
    cdef public object _p, _lp
    cdef public double _lc, _logb

    @cython.locals(m=cython.double)
    cpdef tuple _moments(self)
    @cython.locals(m=cython.double, v=cython.double, k=cython.double)
    cpdef tuple _params(self)

    @cython.locals(n=cython.double, m=cython.double)
    cpdef bint informative(self)
    @cython.locals(u=cython.double)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    @cython.locals(u=cython.double, k=cython.double, a=cython.double, b=cython.double, p=tuple)
    cpdef double logpdf(self, double y)
    @cython.locals(u=cython.double, k=cython.double, a=cython.double, b=cython.double)
    cpdef double cdf(self, double y, double vs=*)
    @cython.locals(u=cython.double, k=cython.double, a=cython.double, b=cython.double)
    cpdef double sf(self, double y, double vs=*)
    @cython.locals(k=cython.double, a=cython.double, b=cython.double)
    cpdef double mode(self)
    @cython.locals(k=cython.double, a=cython.double, b=cython.double)
    cpdef double variance(self)


cdef class PoissonComponent(_Component):
    cdef public double offset, shape, rate

    cpdef tuple _rp(self)

    cpdef bint informative(self)
    cpdef add(self, double y, double w, double jitter=*)
    cpdef age(self, double alpha)
    @cython.locals(k=cython.double, r=cython.double, p=cython.double)
    cpdef double logpdf(self, double y)
    @cython.locals(k=cython.double, r=cython.double, p=cython.double)
    cpdef double cdf(self, double y, double vs=*)
    @cython.locals(k=cython.double, r=cython.double, p=cython.double)
    cpdef double sf(self, double y, double vs=*)
    @cython.locals(r=cython.double, p=cython.double)
    cpdef double mode(self)
    @cython.locals(r=cython.double, p=cython.double)
    cpdef double variance(self)


cpdef bint _integer_only(_Component model)
cpdef double sided(double cdf, double sf, str side)
cpdef double _sided_tails(_Component model, double y, double vs, str side)


cdef class OneOfNPrior:
    cdef public list models, log_weights
    cdef public object integer
    cdef public double offset, n, mean, m2

    @cython.locals(models=list, log_weights=list, m=_Component, i=cython.Py_ssize_t)
    cpdef bint informative(self)
    cpdef double sample_variance(self)
    cpdef double _read(self, _Component model, double x)
    @cython.locals(log_weights=list, best=cython.double, lw=cython.double, i=cython.Py_ssize_t)
    cpdef double _best(self)
    @cython.locals(log_weights=list, total=cython.double, lw=cython.double, i=cython.Py_ssize_t)
    cpdef double _total(self, double best)
    @cython.locals(best=cython.double, total=cython.double, w=cython.double, out=list, i=cython.Py_ssize_t)
    cpdef list _active(self)
    @cython.locals(lw=cython.double, w=cython.double)
    cpdef double _weight(self, Py_ssize_t i, double best, double total)
    cpdef _adjust_offset(self, double x)
    @cython.locals(log_weights=list, models=list, m=_Component, lw=cython.double, xr=cython.double,
                   best_ratio=cython.double, ll=cython.double, mode_ll=cython.double, d=cython.double,
                   jitter=cython.double, lls=cython.double[4], scored=cython.bint, top_ll=cython.double,
                   floor=cython.double, var=cython.double, mv=cython.double, penalty=cython.double,
                   top=cython.double, was_informative=cython.bint, i=cython.Py_ssize_t)
    cpdef add(self, double x, double w)
    @cython.locals(m=_Component, log_weights=list, lw=cython.double, i=cython.Py_ssize_t)
    cpdef age(self, double alpha)
    @cython.locals(p=cython.double, w=cython.double, y=cython.double, m=_Component, best=cython.double,
                   total=cython.double, i=cython.Py_ssize_t)
    cpdef double probability(self, double x, str side, double vs=*)
    @cython.locals(lo=cython.double, hi=cython.double, w=cython.double, y=cython.double, c=cython.double,
                   s=cython.double, m=_Component, best=cython.double, total=cython.double,
                   i=cython.Py_ssize_t)
    cpdef tuple probabilities_low_high(self, double x)
    @cython.locals(lo=cython.double, hi=cython.double, w=cython.double, y=cython.double, m=_Component,
                   best=cython.double, total=cython.double, i=cython.Py_ssize_t)
    cpdef double one_tail(self, double x, double vs=*)
    cpdef double mean_value(self)
    @cython.locals(v=cython.double, w=cython.double, m=_Component, best=cython.double, total=cython.double,
                   i=cython.Py_ssize_t)
    cpdef double variance(self)
