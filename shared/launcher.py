"""``make run``: start every process of the Procfile (honcho), say what it runs on, and stop them all on Ctrl-C.

After the banner, every line is one JSON object: the processes' own log lines, each with the name of
the process that wrote it, and honcho's (a process started or stopped) in the same shape.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from shared.config import REPO_ROOT, CommonConfig, ConfigError, data_dir, describe_broker, without_password

SERVICES = ("content", "scheduling", "notifications", "coaching")
DEFAULT_PORTS = {"content": "8001", "scheduling": "8002", "notifications": "8004", "coaching": "8003"}
DEFAULT_PORTAL_PORT = "8000"  # the web pages people use; it has no database or broker of its own
# honcho's return code when it stopped every process because it was asked to (Ctrl-C, or a TERM).
ASKED_TO_STOP = {128 + signal.SIGINT, 128 + signal.SIGTERM}


def banner() -> str:
    """Where to go, and the database and broker each service really uses (passwords hidden).

    Read from the environment the processes inherit, as each of them reads it.
    """
    ports = {name: os.environ.get(f"{name.upper()}_PORT") or DEFAULT_PORTS[name] for name in SERVICES}
    configs = {name: CommonConfig.common_from_env(name) for name in SERVICES}
    portal = os.environ.get("PORTAL_PORT") or DEFAULT_PORTAL_PORT
    lines = [
        "",
        "The platform is starting.",
        f"  Start here:    http://127.0.0.1:{portal}/   (the portal: sign in as a demo person)",
    ]
    for name in SERVICES:
        lines.append(f"  {name:<14} API docs: http://127.0.0.1:{ports[name]}/docs   (OpenAPI: /openapi.json)")
    for name, config in configs.items():
        database = without_password(config["database_url"])
        if not database.startswith("sqlite"):
            database += f"   (schema {config['db_schema']})"
        lines.append(f"  {name + ' DB':<14} {database}")
    config = configs["scheduling"]
    broker = describe_broker(config["broker_url"], config["broker_folder"])
    if config["broker_namespace"]:
        broker += f"   (names prefixed {config['broker_namespace']!r})"
    lines.append(f"  {'Broker':<14} {broker}")
    if os.environ.get("SMTP_SINK_DIR"):
        lines.append(
            f"  {'Mailbox':<14} http://127.0.0.1:{ports['notifications']}/dev/mailbox   (the e-mails the platform "
            f"sent, caught by the local SMTP sink on 127.0.0.1:{os.environ.get('SMTP_SINK_PORT') or '1025'}; "
            "nothing leaves this machine)"
        )
    lines += [
        "  Get a token:   make token ROLE=national_admin TENANT=US   (or ROLE=facilitator TENANT=CA, ...)",
        "  For example:   TOKEN=$(make -s token ROLE=facilitator TENANT=CA)",
        f'                 curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:{ports["content"]}/series',
        f"  Data folder:   {data_dir()}    Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


class JsonLines:
    """honcho's printer for ``make run``: JSON lines pass through with their process's name; honcho's
    own messages become JSON lines too. A line that is not JSON is printed as it came, so it shows."""

    def __init__(self, output):
        self.output = output
        self.width = 0  # honcho sets it; nothing is padded here

    def write(self, message) -> None:
        text = message.data.decode("utf-8", "replace") if isinstance(message.data, bytes) else message.data
        for line in text.splitlines():
            # One write per line: print() writes the text and its newline apart, and honcho's Ctrl-C
            # message, printed from the signal handler, could land between them (two records, one line).
            self.output.write(self.line(message.name, line) + "\n")
            self.output.flush()

    @staticmethod
    def line(process: str, line: str) -> str:
        from honcho.manager import SYSTEM_PRINTER_NAME

        if process == SYSTEM_PRINTER_NAME:
            return json.dumps(
                {
                    "event": line.strip(),
                    "logger": "make run",
                    "level": "info",
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                }
            )
        try:
            record = json.loads(line)
        except ValueError:
            return line
        return json.dumps({"process": process, **record}) if isinstance(record, dict) else line


def local_secret(path: Path) -> str:
    """A random secret kept in ``path``, made on first use (readable by this user only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def main() -> None:
    try:
        from honcho.environ import parse_procfile
        from honcho.manager import Manager
    except ImportError:
        sys.exit("honcho is not installed: run `make run`, which installs it, or `make install`")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("DATA_DIR", str(data_dir()))
    os.environ.setdefault("WEB_CONCURRENCY", "2")
    # The portal's coach pages call the coaching API that make run starts beside it.
    os.environ.setdefault(
        "PORTAL_COACHING_URL", f"http://127.0.0.1:{os.environ.get('COACHING_PORT') or DEFAULT_PORTS['coaching']}"
    )
    # Notifications links each e-mail to "My e-mails" in the portal, at the address the portal itself uses.
    os.environ.setdefault(
        "PORTAL_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORTAL_PORT') or DEFAULT_PORTAL_PORT}"
    )
    os.environ.setdefault(
        "PORTAL_NOTIFICATIONS_URL",
        f"http://127.0.0.1:{os.environ.get('NOTIFICATIONS_PORT') or DEFAULT_PORTS['notifications']}",
    )
    # E-mails carry a one-click unsubscribe link signed with this secret: one per data folder, kept in it,
    # so the links in the mailbox still work after a restart.
    os.environ.setdefault("UNSUBSCRIBE_SECRET", local_secret(data_dir() / "unsubscribe-secret"))
    if not os.environ.get("SMTP_HOST"):
        # No mail server named: e-mail goes to the local sink (the Procfile's smtp-sink), listed at /dev/mailbox.
        os.environ.setdefault("SMTP_SINK_DIR", str(data_dir() / "mailbox"))
    try:
        print(banner(), flush=True)
    except ConfigError as error:
        sys.exit(f"make run: {error}")
    manager = Manager(printer=JsonLines(sys.stdout))
    for name, command in parse_procfile((REPO_ROOT / "Procfile").read_text()).processes.items():
        manager.add_process(name, command, env=dict(os.environ), cwd=str(REPO_ROOT))
    manager.loop()
    # Stopping everything on Ctrl-C is the way out, not a failure; a process that died on its own is.
    sys.exit(0 if manager.returncode in ASKED_TO_STOP else manager.returncode)


if __name__ == "__main__":
    main()
