# Cython augmenting declarations for categorical.py (see accelerated.py): the same code, typed.
# The module constants stay Python objects (SMALL_MODEL is read at each call: tests patch it).
# Concentrations and frequencies are C doubles where the .py code only ever holds floats
# (_table's total stays the object sum() gives: an int for int concentrations, as the .py);
# batch_less_likely and the numpy path (less_likely_probabilities) stay def functions, the
# latter's generator expressions closures.
import cython


cpdef int strata_count(double total)
@cython.locals(mean=cython.double, prev_f=cython.double, f=cython.double, cdfs=list, out=list)
cpdef list stratum_means(double a, double b, Py_ssize_t n)
@cython.locals(mean=cython.double, b=cython.double, out=list, prev_f=cython.double, k=cython.Py_ssize_t, f=cython.double)
cpdef list _strata(double a, double total, Py_ssize_t n, object special)
@cython.locals(freqs=list, cums=list, running=cython.double, c=cython.double,
               i=cython.Py_ssize_t, j=cython.Py_ssize_t)
cpdef tuple _table(list vals)
@cython.locals(last=cython.Py_ssize_t, acc=cython.double, k=cython.Py_ssize_t, s_k=cython.double, x=cython.double,
               r=cython.Py_ssize_t, p_prev=cython.double, c_prev=cython.double, span=cython.double,
               alpha=cython.double)
cpdef double _interpolated_mean(list freqs, list cums, object strata)
@cython.locals(freqs=list, cums=list, total=cython.double, by_conc=dict, out=dict)
cpdef dict _less_likely_small(dict positive, list keys)


cdef class DecayedDirichlet:
    cdef public dict stored
    cdef public double scale
    cdef public dict first_seen, last_seen

    @cython.locals(stored=dict, inc=cython.double, any_data=cython.bint)
    cpdef observe(self, object present, object bucket_ms, double decay)
    cpdef prune(self, object older_than_ms)
    cpdef forget(self, object values)
    cpdef dict probabilities(self, object wanted)
    cpdef dict to_state(self)
