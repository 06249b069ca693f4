"""Time as the SLA counts it: the working-day calendar, the policy (data), a stage's clock. Pure."""
