# export.cli runs twinzoo.import_order.before_tensorflow() before anything imports TensorFlow.
from export.cli import main

raise SystemExit(main())
