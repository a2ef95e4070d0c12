import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# no test reads or writes the user's artifact cache unless it names one (--cache): a cache hit
# would hide what a test means to exercise (the determinism test's two runs, an export's verdict)
os.environ["TWINZOO_CACHE"] = "off"

from twinzoo.environment import before_tensorflow  # noqa: E402

before_tensorflow()
