"""Statistics of the tickets: the dashboard, the public performance page, exports, the enterprise file.

Modules, each importing only those above it: ``sql`` (SQL pieces), ``filters``, ``cache``
(``stats_cache``), ``metrics`` (the passes), ``performance`` (政务公开), ``reports`` (the dashboard
report; its docstring defines every figure), ``tables``, ``export``; ``enterprise`` (质量档案)
uses only ``metrics.ratio``.
"""
