"""Abstract values for every IR variable, inferred from the abstract signature of a call.

A generated gradient that knows, per variable, whether it is a Python float, a NumPy scalar
or an array (its dtype, rank and which axes have length 1) need not carry run-time shape
bookkeeping. ``values`` defines the abstract values and their lattice, ``table`` the one
abstract-evaluation rule per primitive (assembled from the rule modules), ``infer`` the
analysis of a whole function. Nothing here changes the IR; later passes ask it.
"""
