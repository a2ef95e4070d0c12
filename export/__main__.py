# export.cli runs twinzoo.environment.prepare() before anything imports TensorFlow.
from export.cli import main

raise SystemExit(main())
