"""The differential-testing suite: strategies, properties and the tools built on them.

`python -m properties --help` lists the command-line tools (the differential campaign first).
"""
