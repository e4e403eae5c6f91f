# Cython augmenting declarations for anomaly_model.py (see accelerated.py): the same code, typed.
# ``libm``: the .py's ``import math as libm`` names C's libm here (see priors.LIBM_NOTE).
import cython
cimport libc.math as libm
from ctdetect.engine.anomaly.priors cimport NormalGamma

cdef class AnomalyModel:
    cdef public object open
    cdef public list models

    @cython.locals(m=NormalGamma, side=list)
    cpdef age(self, double alpha)
    cpdef sample(self, object bucket, double error, double p_bucket, double p_overall)
    @cython.locals(lam=cython.double, lo=cython.double, la=cython.double, x=cython.double, y=cython.double,
                   alpha=cython.double)
    cpdef tuple temper(self, double p_bucket, double p_overall)
