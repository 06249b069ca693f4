"""Seeing ahead (CONTRACT §13): typical cases (典型案例), publicity broadcasts (发一封短信),
hotspots (未诉先办) and reports. One table, ``fzt-foresight``, owned by :mod:`store`."""
