"""Print how long the first ``load_attack()`` and ``load_catalogue()`` take in a fresh process."""

from __future__ import annotations

import subprocess
import sys

SNIPPET = """
import time
t0 = time.perf_counter()
from {mod} import {fn}
t1 = time.perf_counter()
obj = {fn}()
t2 = time.perf_counter()
{fn}()
t3 = time.perf_counter()
print(f"{fn}: import {{(t1-t0)*1000:.1f}} ms, first load {{(t2-t1)*1000:.1f}} ms, cached {{(t3-t2)*1e6:.1f}} us")
"""


def main() -> None:
    for mod, fn in (("ctdetect.attack", "load_attack"), ("ctdetect.catalogue", "load_catalogue")):
        subprocess.run([sys.executable, "-c", SNIPPET.format(mod=mod, fn=fn)], check=True)


if __name__ == "__main__":
    main()
