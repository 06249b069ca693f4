"""The grid network at work (CONTRACT §10): geometry and ``locate``, grid workers' filings and
door-knock visits, on-the-spot resolution, evidence uploads, and the claim pool (基层吹哨、部门报到)."""
