"""`make mutate`: mutation testing of the domain rules and the SQL rules (mutmut 3), one module at a time.

docs/mutation.md says how to run it, which tests cover which module, and why each surviving mutant
is left alive.
"""
