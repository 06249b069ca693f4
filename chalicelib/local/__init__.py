"""The local stage: the cloud in miniature on one machine (moto server, in-process app, scheduler)."""
