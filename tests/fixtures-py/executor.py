#!/usr/bin/env python3
"""A v1 HTTP executor in Python 3 stdlib only, written the way pymesos-style executors
work: it reads MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID and MESOS_EXECUTOR_ID, subscribes
with JSON over http.client, reads the chunked RecordIO event stream, and makes its other
calls on a second keep-alive connection.

Behaviour: for every LAUNCH it sends TASK_RUNNING and then TASK_FINISHED (source
SOURCE_EXECUTOR, executor_id set, a fresh uuid4); every MESSAGE is echoed back prefixed
with "echo:"; on SHUTDOWN it exits 0. It gives up (exit 2) after 30 s.
"""

import base64
import http.client
import json
import os
import sys
import time
import uuid

DEADLINE = time.monotonic() + 30
PATH = "/api/v1/executor"


def read_record(resp):
    digits = b""
    while True:
        b = resp.read(1)
        if not b:
            return None
        if b == b"\n":
            break
        digits += b
    return json.loads(resp.read(int(digits)).decode("utf-8"))


def main():
    host, port = os.environ["MESOS_AGENT_ENDPOINT"].rsplit(":", 1)
    fw = os.environ["MESOS_FRAMEWORK_ID"]
    ex = os.environ["MESOS_EXECUTOR_ID"]
    envelope = {"framework_id": {"value": fw}, "executor_id": {"value": ex}}
    events = http.client.HTTPConnection(host, int(port), timeout=30)
    calls = http.client.HTTPConnection(host, int(port), timeout=30)

    def call(kind, **payload):
        body = dict(envelope, type=kind, **payload)
        calls.request("POST", PATH, body=json.dumps(body),
                      headers={"Content-Type": "application/json"})
        r = calls.getresponse()
        text = r.read()
        if r.status != 202:
            sys.stderr.write("%s answered %d: %s\n" % (kind, r.status, text))
            sys.exit(1)

    def update(task_id, state):
        call("UPDATE", update={"status": {
            "task_id": task_id, "state": state, "source": "SOURCE_EXECUTOR",
            "executor_id": {"value": ex},
            "uuid": base64.b64encode(uuid.uuid4().bytes).decode("ascii")}})

    body = dict(envelope, type="SUBSCRIBE", subscribe={})
    events.request("POST", PATH, body=json.dumps(body),
                   headers={"Content-Type": "application/json", "Accept": "application/json"})
    resp = events.getresponse()
    if resp.status != 200:
        sys.stderr.write("SUBSCRIBE answered %d\n" % resp.status)
        return 1
    while time.monotonic() < DEADLINE:
        ev = read_record(resp)
        if ev is None:
            return 1
        kind = ev["type"]
        if kind == "LAUNCH":
            task_id = ev["launch"]["task"]["task_id"]
            update(task_id, "TASK_RUNNING")
            update(task_id, "TASK_FINISHED")
        elif kind == "MESSAGE":
            data = base64.b64decode(ev["message"]["data"])
            call("MESSAGE", message={"data": base64.b64encode(b"echo:" + data).decode("ascii")})
        elif kind == "SHUTDOWN":
            return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
