# Cython augmenting declarations for normalizer.py (see accelerated.py): the module compiled
# as it is; Normalizer stays a Python class (tests replace a method of one instance).
# raised_max runs once per node and bucket: a direct C call from update_many, its values
# Python objects (a score keeps the type it came with, as in the .py).

cpdef tuple raised_max(object entry, object score, object now, object decay)
