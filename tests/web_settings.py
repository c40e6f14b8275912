"""Settings for the test run: the product's settings with a test key and debug on (demo loader allowed).

``DATABASE_URL`` picks PostgreSQL (scripts/test runs the web tests on both databases).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("CARBONMETER_DEBUG", "1")
os.environ.setdefault("CARBONMETER_SECRET_KEY", "test-only-key")

from carbonmeter.web.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests; Argon2 in production
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Readings written by tests that do not choose a lake themselves (the API fuzzing) go to a throwaway folder,
# never into the checkout's var/lake.
CARBONMETER_LAKE = Path(tempfile.gettempdir()) / f"carbonmeter-test-lake-{os.getpid()}"
