"""The work of each job kind, one module per kind (shared/jobkinds names the handler of each)."""
