"""Functions the user's own code calls to tell symdiff something; generated code calls them
too, where the user did, so the forward pass reads like the function it came from.
"""


def stop_gradient(x):
    """``x`` itself, as a value no derivative flows through.

    Outside symdiff this is the identity. Inside a function symdiff differentiates, the
    result is a constant: every derivative (gradient, tangent, Hessian) is that of the same
    function with this value held fixed at what ``x`` is here.
    """
    return x
