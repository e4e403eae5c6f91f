# Cython augmenting declarations for scores.py (see accelerated.py): the same code, typed.
# The module constants stay Python floats: arithmetic with them is Python's, as exact.
import cython
# ``libm``: the .py's ``import math as libm`` names C's libm here (see priors.LIBM_NOTE).
cimport libc.math as libm


@cython.locals(lp=cython.double)
cpdef double raw_score(double p)
cpdef double inverse_raw_score(double score)
cpdef double absolute_cap(double p)
cpdef double _part_score(double log_p, double weight, double floor)
@cython.locals(jw=cython.double, ew=cython.double, log_extreme=cython.double, log_cut=cython.double,
               log_joint=cython.double, raw=cython.double)
cpdef tuple aggregate(object ps, tuple style, double max_anomalous=*)
