# Cython augmenting declarations for stats.py (see accelerated.py): the same code, typed.
# The module constants stay Python floats (other modules read them). Arguments and locals
# are C doubles only where the .py code only ever holds floats there; a function whose .py
# can return an int (joint_probability of a single int p) or None keeps an object result.
# normal_z returns its Python float: ``normal_z(p) ** 2`` then stays Python's float power
# (glibc's pow), where a C double squared would be compiled to ``z * z``.
import cython
# ``libm``: the .py's ``import math as libm`` names C's libm here (see priors.LIBM_NOTE).
cimport libc.math as libm


cpdef double beta_ppf(double q, double a, double b)
cpdef double beta_cdf(double x, double a, double b)
cpdef normal_z(double p)
# the sums stay Python's sum() (compensated from Python 3.12), the z-scores Python floats
@cython.locals(total_w=cython.double, stat=cython.double, rho=cython.double, total_z=cython.double, zs=list)
cpdef joint_probability(object ps, object weights=*, double correlation=*)
# the pair a count series joins each bucket: z1, z2 Python floats (their squares Python's power)
@cython.locals(smaller=cython.double, total_w=cython.double, stat=cython.double, rho=cython.double,
               total_z=cython.double)
cpdef double joint_probability_pair(double p1, double p2, double correlation)
cpdef double _pow_one_minus(double p, double x)
cpdef double _one_minus_pow_one_minus(double p, double x)
@cython.locals(n=cython.double, s=cython.double, x=cython.double, prob=cython.double, z2=cython.double,
               log_double_max=cython.double, b1=cython.double, b2=cython.double, r=cython.double,
               bound=cython.double)
cpdef double log_joint_upper_bound(object ps)
@cython.locals(big_m=cython.Py_ssize_t, k=cython.Py_ssize_t, i=cython.Py_ssize_t, logc=cython.double,
               log_largest=cython.double, coeffs=list, terms=list, p=cython.double, total=cython.double,
               index=cython.double, q=cython.double, cmax=cython.double, p_m=cython.double, p_min=cython.double,
               log_scale=cython.double, result=cython.double, condition=cython.double, log_p_min=cython.double,
               scaled=cython.double, remainder=cython.double, t=cython.double, c=cython.double)
cpdef double _log_m_from_n(tuple smallest, cython.Py_ssize_t n)
@cython.locals(p_min=cython.double, result=cython.double)
cpdef double _log_one_from_n(double p_m, cython.Py_ssize_t n)
cpdef list _ascending_clamped(object ps)
@cython.locals(n=cython.Py_ssize_t, total=cython.Py_ssize_t, m=cython.Py_ssize_t, best=cython.double,
               value=cython.double, ascending=list)
cpdef double log_extreme_probability(object ps, object min_m, object max_m)
