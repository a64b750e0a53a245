"""Prints the merged configuration podman-compose would run, as JSON: its own loader (podman_compose 1.0.3
from Debian: normalize, variable substitution, merge of the -f files in order, `extends`), without starting
anything (1.0.3 has no `config` command). Usage: python3 podman-compose-config.py FILE [FILE...]
Variables come from the environment."""
import json
import os
import sys

import podman_compose as pc

compose = {}
for filename in sys.argv[1:]:
    with open(filename, "r") as f:
        content = pc.normalize(pc.yaml.safe_load(f))
    content = pc.rec_subs(content, dict(os.environ))
    pc.rec_merge(compose, content)
services = compose.get("services") or {}
pc.flat_deps(services, with_extends=True)
names = [n for _, n in sorted((len(s["_deps"]), n) for n, s in services.items())]
pc.resolve_extends(services, names, dict(os.environ))
for s in services.values():
    s.pop("_deps", None)
json.dump(compose, sys.stdout, indent=1, default=list)
