"""A local SMTP server for `mla up` that keeps every message as a file instead of sending it.

The folder also holds `sink.json` (port and owning process), so that another command on the same
data folder (`mla worker --burst`) sends its e-mail to the same sink while `mla up` runs.
"""

import json
import logging
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

SINK_HOST = "127.0.0.1"
PORT_ATTEMPTS = 5
STATE_FILE = "sink.json"
# aiosmtpd logs every connection at INFO: a sink for a demo needs only its warnings.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class MailFolder:
    """aiosmtpd handler: each accepted message becomes one `.eml` file in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        content = envelope.original_content or b""
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return "250 Message stored"


class MailSink:
    """A started sink; `stop()` ends it and forgets its state file."""

    def __init__(self, folder: Path, controller: Controller) -> None:
        self.folder = folder
        self.port: int = controller.port
        self._controller = controller

    def stop(self) -> None:
        self._controller.stop()
        (self.folder / STATE_FILE).unlink(missing_ok=True)


def start_mail_sink(folder: Path) -> MailSink:
    """Listen on a free port of 127.0.0.1, in a thread of this process."""
    folder.mkdir(parents=True, exist_ok=True)
    for _attempt in range(PORT_ATTEMPTS):
        controller = Controller(MailFolder(folder), hostname=SINK_HOST, port=_free_port())
        try:
            controller.start()  # returns once the server answers
        except (OSError, RuntimeError):  # the port was taken in the meantime: try another
            continue
        (folder / STATE_FILE).write_text(json.dumps({"port": controller.port, "owner": psutil.Process().pid}))
        return MailSink(folder, controller)
    raise RuntimeError("could not start the local mail sink on 127.0.0.1")


def running_mail_sink_port(folder: Path) -> int | None:
    """The port of the sink that a live process (a running `mla up`) keeps in `folder`, if any."""
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return int(state["port"]) if psutil.pid_exists(int(state["owner"])) else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((SINK_HOST, 0))
        return probe.getsockname()[1]
