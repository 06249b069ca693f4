"""SLA domain: working-day calendar, working-time arithmetic and the SLA policy (pure code)."""
