"""forensics: reconstructs what happened to a service's database migrations.

Evidence comes from the git history and the deploy history; the output is an incident
report whose every line rests on that evidence.
"""

__version__ = "0.1.0"
