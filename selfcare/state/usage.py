"""Where ``usage_csv`` used to be: the usage page's state is in ``selfcare/pages/usage/state.py`` now.

Kept only for ``tests/test_csv_export.py``, outside the app's tests; remove it once that test
imports ``selfcare.pages.usage.state``.
"""

from selfcare.pages.usage.state import usage_csv

__all__ = ["usage_csv"]
