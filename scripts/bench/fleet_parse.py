"""Python baseline of scripts/bench-fleet.sh: read and json-parse every
*.json facts file of a folder, the floor a script-based fleet tool starts
from (no checking at all). `--procs N` spreads the files over N processes.
Prints the number of hosts parsed."""
import json
import os
import sys
from multiprocessing import Pool


def parse(path):
    with open(path, "rb") as f:
        return json.loads(f.read()).get("hostname")


def main():
    folder = sys.argv[1]
    procs = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--procs" else 1
    files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".json"))
    if procs > 1:
        with Pool(procs) as p:
            names = p.map(parse, files, chunksize=64)
    else:
        names = [parse(f) for f in files]
    print(len(names))


if __name__ == "__main__":
    main()
