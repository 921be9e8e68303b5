"""Everything facing people: the HTTP platform, database, jobs, CLI, scenarios and reports."""
