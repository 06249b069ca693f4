"""The citizen entrance (群众诉求入口): a small mobile page in Chinese, served by the API at ``/m/``.

It stands in for the WeChat mini program (CONTRACT §9): the greeting, the county entrances, the
form, the SMS code, 我的诉求. Sources live in ``mobile/`` at the repository root; ``make mobile``
builds them with esbuild into ``static/`` here, which is committed (so ``make run``, ``chalice
package`` and CI need no Node.js) and checked to be exactly what the sources build to
(tests/e2e/test_mobile.py).
"""

from chalicelib.mobile.routes import mobile_bp

__all__ = ["mobile_bp"]
