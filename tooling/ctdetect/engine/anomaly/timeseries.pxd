# Cython augmenting declarations for timeseries.py (see accelerated.py): the same code, typed.
# A cdef class holds only the attributes declared here: an attribute added to a class's
# __slots__ in timeseries.py needs its line here too (tests/anomaly/test_compiled_agrees.py
# fails until it has one). Ints (times, bucket numbers, counts) stay Python objects: their
# floor division and modulo are Python's.
# ``libm``: the .py's ``import math as libm`` names C's libm here (see priors.LIBM_NOTE).
# A pair the step asks for several times a bucket (``_seasonal``, the variance scales) is a
# C tuple (``(double, long)``): no tuple, float and int objects per call; Python callers
# still get a tuple of the same float and int.
import cython
cimport libc.math as libm
from ctdetect.engine.anomaly.anomaly_model cimport AnomalyModel
from ctdetect.engine.anomaly.gain cimport GainController
from ctdetect.engine.anomaly.multibucket cimport MultiBucketMean
from ctdetect.engine.anomaly.priors cimport OneOfNPrior
from ctdetect.engine.anomaly.trend cimport TrendComponent


cdef class _Profile:
    cdef public object period_ms, slot_ms, span_ms, slots
    cdef public bint spike_found
    cdef public dict means, samples
    cdef public double total, bias
    # always floats (0.0, running means of floats, a test's floats, a state's float())
    cdef public double var_with, var_without, weight
    cdef public object period_index, buckets, counts, variances

    cpdef object slot(self, object t_ms)
    cpdef object bucket(self, object slot)
    cpdef double offset(self, object t_ms)
    cpdef bint useful(self)
    @cython.locals(total=cython.double, seen=cython.long)
    cpdef double mean_variance(self)
    @cython.locals(lo=cython.double, hi=cython.double, n=cython.double, v=cython.double)
    cpdef (double, double) variance(self, object t_ms, double confidence, bint lower=*)
    @cython.locals(factor=cython.double, i=cython.Py_ssize_t)
    cpdef _age_counts(self, object t_ms, double decay_rate)
    @cython.locals(err_with=cython.double, a=cython.double, rate=cython.double, new=cython.double, count=cython.double)
    cpdef update(self, object t_ms, double residual, object w, double decay_rate)
    @cython.locals(level=cython.double)
    cpdef double canonicalise(self)


cdef class CountSeries:
    cdef public TrendComponent trend
    cdef public bint using_trend
    cdef public list err_with, err_without
    cdef public object first_ms, last_ms, present_buckets, buckets
    cdef public _Profile daily, weekly
    cdef public object window, weekly_kind
    cdef public OneOfNPrior prior, mb_prior
    cdef public MultiBucketMean mb
    cdef public AnomalyModel anomaly
    cdef public object last_residual
    cdef public GainController gain
    cdef public list mvs

    @cython.locals(c=cython.double, m=cython.long, profile=_Profile)
    cpdef (double, long) _seasonal(self, object t_ms)
    @cython.locals(c=cython.double, _m=cython.long)
    cpdef double components(self, object t_ms)
    cpdef bint informative(self)
    @cython.locals(mean=cython.double, m=cython.long, profile=_Profile)
    cpdef double mean_variance(self)
    cpdef double _mean_variance_scale(self, long in_use)
    @cython.locals(lo=cython.double, hi=cython.double, mean=cython.double, m=cython.long, a=cython.double,
                   b=cython.double, v=cython.double, bias=cython.double, profile=_Profile, trend=TrendComponent)
    cpdef (double, double) variance_scale(self, object t_ms, double confidence, double variance, bint lower=*)
    cpdef double _scale_variance(self)
    cpdef double seasonal_weight(self, object t_ms, double confidence, double variance)
    @cython.locals(dt_s=cython.double, factor=cython.double)
    cpdef _age(self, object t_ms, double trend_rate)
    @cython.locals(t_s=cython.double, x0=cython.double, seasonal=cython.double, m=cython.long,
                   error=cython.double, trend=TrendComponent, test_for_trend=cython.bint, profile=_Profile)
    cpdef _update_components(self, object x, object t_ms, double w, object w_raw, object span_s, double trend_rate)
    @cython.locals(n1=cython.double, m2_1=cython.double, n0=cython.double, m2_0=cython.double, df0=cython.double,
                   df1=cython.double, v0=cython.double, v1=cython.double, vt=cython.double,
                   variance_factor=cython.double, p_f=cython.double, significance=cython.double, p=cython.double)
    cpdef bint _trend_significant(self)
    @cython.locals(residual=cython.double, ow=cython.double, w=cython.double, alpha=cython.double, vs=cython.double, variance=cython.double,
                   p_single=cython.double, p=cython.double, error=cython.double)
    cpdef step(self, object x, object t_ms, object bucket, object weight, object span_s, double decay_rate,
               double trend, str side)


@cython.locals(total=cython.double, w2=cython.double)
cpdef double _pooled_variance(double count, double variance, double error, double w, double samples)
cpdef _add_moment(list acc, double x, double w)
cpdef _add_mean(list acc, double x, double w)

@cython.locals(z=cython.double)
cpdef double _logistic(double x, double width, double x0, double sign=*)
cpdef double _fdtr(double dfn, double dfd, double x)

@cython.locals(hi=cython.double)
cpdef tuple chi2_ratios(double df, double confidence, bint lower=*)

@cython.locals(floor=cython.double, lmin=cython.double, lmax=cython.double, c=cython.double, lp=cython.double)
cpdef double outlier_weight(double p_one_tail, double derate)
