"""``python -m train ...`` = ``void train ...``; the form launchers use::

    deepspeed --num_gpus 8 --module train --data DATA --out RUN
    torchrun --nproc_per_node 8 -m train --data DATA --out RUN
"""

import sys

from void.app.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
