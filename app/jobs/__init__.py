"""Jobs: the entry floor for work nobody asks for over HTTP (the scheduler's sweep, reminders, bulk onboarding, the
simulation). Like a view or a CLI command, a job opens the units of work (`app.uow`) around the service calls it
makes (one per batch or per case step) and does what must wait for a commit (e-mail); the services it calls flush
only."""
