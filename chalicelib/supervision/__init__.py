"""两首一督: chief handlers' boards, urges, accountability, the figures' rollups, the annual assessment."""
