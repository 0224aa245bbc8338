"""``python -m hippoflow.synth``: write synthetic recording days (see :mod:`hippoflow.synth.day`)."""

import sys

from hippoflow.synth.day import main

sys.exit(main())
