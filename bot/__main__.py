"""`python -m bot`: the bot's command line."""

import sys

from bot.cli.main import main

sys.exit(main())
