"""The operator console (工作台): a single-page app in Chinese, served by the API at ``/console/``.

Sources live in ``console/`` at the repository root; ``make console`` builds them with esbuild
into ``static/`` here, which is committed (so ``make run``, ``chalice package`` and CI need no
Node.js) and checked to be exactly what the sources build to (tests/e2e/test_console.py).
"""

from chalicelib.console.routes import console_bp

__all__ = ["console_bp"]
