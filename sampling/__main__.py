"""``python -m sampling plan | draw | estimate | assign``."""

import sys

from .cli import main

sys.exit(main())
