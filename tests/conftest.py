import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from twinzoo.import_order import before_tensorflow  # noqa: E402

before_tensorflow()
