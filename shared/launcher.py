"""``make run``: start every process of the Procfile (honcho) on the embedded default, and say where to go."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from shared.config import REPO_ROOT, data_dir

SERVICES = {
    "content": int(os.environ.get("CONTENT_PORT", "8001")),
    "scheduling": int(os.environ.get("SCHEDULING_PORT", "8002")),
}


def main() -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("DATA_DIR", str(data_dir()))
    env.setdefault("WEB_CONCURRENCY", "2")
    honcho = shutil.which("honcho", path=env["PATH"])
    if honcho is None:
        sys.exit("honcho is not installed: run `make install` first")
    print("\nThe platform is starting (embedded default: SQLite, filesystem broker).")
    for name, port in SERVICES.items():
        print(f"  {name:<14} API docs: http://127.0.0.1:{port}/docs   (OpenAPI: /openapi.json)")
    print("  Get a token:   make token ROLE=national_admin TENANT=US   (or ROLE=facilitator TENANT=CA, ...)")
    print("  For example:   TOKEN=$(make -s token ROLE=facilitator TENANT=CA)")
    print(f"                 curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:{SERVICES['content']}/series")
    print(f"  Data folder:   {env['DATA_DIR']}    Stop with Ctrl-C.\n", flush=True)
    os.chdir(REPO_ROOT)
    os.execve(honcho, [honcho, "--no-prefix", "-f", str(REPO_ROOT / "Procfile"), "start"], env)


if __name__ == "__main__":
    main()
