# cython: language_level=3
"""scipy's special functions that ``priors`` calls per series and bucket, called as C.

Compiled only (setup.py, when Cython and scipy are at hand); ``priors._special`` falls back
to ``scipy.special`` without it. Each function here is scipy's own C function, the one its
ufunc runs, reached through ``scipy.special.cython_special`` without the ufunc's per-call
cost (about 0.7 µs of argument conversion a call): the results are bit-identical to the
ufunc's (``tests/anomaly/test_compiled_agrees.py`` compares them on a large random sample).
"""

from scipy.special cimport cython_special


cpdef double stdtr(double df, double t):
    """Student's t c.d.f. (``scipy.special.stdtr``)."""
    return cython_special.stdtr(df, t)


cpdef double stdtrit(double df, double p):
    """Student's t quantile (``scipy.special.stdtrit``)."""
    return cython_special.stdtrit(df, p)


cpdef double betainc(double a, double b, double x):
    """The regularised incomplete beta function (``scipy.special.betainc``)."""
    return cython_special.betainc(a, b, x)


cpdef double betaincinv(double a, double b, double y):
    """Its inverse in x (``scipy.special.betaincinv``): the Beta quantiles of the rare
    models' strata (``categorical._strata``), a few per category present in a bucket."""
    return cython_special.betaincinv(a, b, y)


cpdef double fdtr(double dfn, double dfd, double x):
    """The F distribution's c.d.f. (``scipy.special.fdtr``): ``timeseries``' trend test."""
    return cython_special.fdtr(dfn, dfd, x)


cpdef double gammaincc(double a, double x):
    """The regularised upper incomplete gamma function (``scipy.special.gammaincc``):
    ``stats``' joint probability, once per scored series and per aggregated node."""
    return cython_special.gammaincc(a, x)


cpdef double chdtri(double v, double p):
    """The chi-squared quantile of upper-tail probability ``p`` for ``v`` degrees of freedom
    (``scipy.special.chdtri``): ``timeseries.chi2_ratios``, the seasonal variance scale's
    interval, as ml-cpp asks boost for it."""
    return cython_special.chdtri(v, p)
