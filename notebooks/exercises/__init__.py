"""The exercises at the end of each chapter: the checks, and the reference solutions.

A chapter's exercise section shows a *stub* for each exercise (a function or class whose
docstring says what to compute and whose body raises ``NotImplementedError("Exercise N: ...")``)
and, below it, a check cell::

    from exercises import checks_ch01 as check
    check.newton(newton)

``checks_chNN.py``     one check per exercise: it runs your code on its own test cases and says
                       in words what is wrong (which entry, the expected and the actual value)
``solutions_chNN.py``  the reference solutions, out of sight of the chapter: try first
``checking.py``        what every check uses: the comparison helpers, the "not done yet"
                       message for an untouched stub, the registry of all exercises
"""
