import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C before main() can say so: no traceback
    sys.exit(130)

sys.exit(main())
