#!/usr/bin/env python3
"""A complete v1 scheduler in Python 3 stdlib only (http.client + json), written the way
third-party clients such as pymesos talk to Mesos: JSON bodies, a chunked RecordIO event
stream on one connection, every other call on a second keep-alive connection carrying
the Mesos-Stream-Id header.

Usage: scheduler_lifecycle.py HOST:PORT

Subscribes, launches the command task `echo hello` on the first offer, acknowledges every
update that has a uuid, and once the task is TASK_FINISHED tears the framework down and
waits for the stream to end. Prints one JSON summary line on stdout; exit status 0 on
success, 1 on a protocol surprise, 2 on timeout.
"""

import base64
import http.client
import json
import sys
import time

DEADLINE = time.monotonic() + 30
PATH = "/api/v1/scheduler"


class Fail(Exception):
    pass


def read_record(resp):
    """One RecordIO record: decimal length, LF, that many bytes. None at end of stream."""
    digits = b""
    while True:
        b = resp.read(1)
        if not b:
            if digits:
                raise Fail("stream ended inside a record length")
            return None
        if b == b"\n":
            break
        if not b.isdigit():
            raise Fail("bad record length byte %r" % b)
        digits += b
    n = int(digits)
    if n == 0:
        raise Fail("zero-length record")
    data = resp.read(n)
    if len(data) != n:
        raise Fail("stream ended inside a record")
    return json.loads(data.decode("utf-8"))


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    events = http.client.HTTPConnection(host, int(port), timeout=20)
    calls = http.client.HTTPConnection(host, int(port), timeout=20)
    subscribe = {
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "python", "name": "python-lifecycle"}},
    }
    events.request("POST", PATH, body=json.dumps(subscribe),
                   headers={"Content-Type": "application/json", "Accept": "application/json"})
    resp = events.getresponse()
    if resp.status != 200:
        raise Fail("SUBSCRIBE answered %d: %s" % (resp.status, resp.read()))
    if resp.getheader("Content-Type") != "application/json":
        raise Fail("Content-Type %r" % resp.getheader("Content-Type"))
    stream_id = resp.getheader("Mesos-Stream-Id")
    if not stream_id:
        raise Fail("no Mesos-Stream-Id")

    framework_id = None
    summary = {"types": [], "states": [], "acks": 0}

    def call(kind, **payload):
        body = {"framework_id": {"value": framework_id}, "type": kind}
        body.update(payload)
        calls.request("POST", PATH, body=json.dumps(body),
                      headers={"Content-Type": "application/json", "Mesos-Stream-Id": stream_id})
        r = calls.getresponse()
        text = r.read()  # read it all: keeps the connection reusable
        if r.status != 202:
            raise Fail("%s answered %d: %s" % (kind, r.status, text.decode("utf-8", "replace")))
        return r.status

    launched = False
    while True:
        if time.monotonic() > DEADLINE:
            print(json.dumps(summary))
            return 2
        ev = read_record(resp)
        if ev is None:
            summary["stream_ended"] = True
            break
        kind = ev["type"]
        summary["types"].append(kind)
        if "teardown" in summary:
            # Events queued before the TEARDOWN took effect may still arrive; the
            # framework is gone, so they get no answers.
            continue
        if kind == "SUBSCRIBED":
            framework_id = ev["subscribed"]["framework_id"]["value"]
            summary["framework_id"] = framework_id
        elif kind == "OFFERS":
            offers = ev["offers"]["offers"]
            if not launched:
                offer = offers[0]
                task = {
                    "name": "hello",
                    "task_id": {"value": "py-hello"},
                    "agent_id": offer["agent_id"],
                    "resources": [
                        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                        {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
                    ],
                    "command": {"value": "echo hello"},
                }
                call("ACCEPT", accept={
                    "offer_ids": [offer["id"]],
                    "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
                })
                launched = True
                offers = offers[1:]
            if offers:
                call("DECLINE", decline={"offer_ids": [o["id"] for o in offers],
                                         "filters": {"refuse_seconds": 3600}})
        elif kind == "UPDATE":
            status = ev["update"]["status"]
            summary["states"].append(status["state"])
            if "uuid" in status:
                base64.b64decode(status["uuid"], validate=True)
                call("ACKNOWLEDGE", acknowledge={
                    "agent_id": status["agent_id"], "task_id": status["task_id"],
                    "uuid": status["uuid"]})
                summary["acks"] += 1
            if status["state"] == "TASK_FINISHED":
                summary["message"] = status.get("message")
                summary["teardown"] = call("TEARDOWN")
        elif kind == "ERROR":
            raise Fail("ERROR event: %s" % ev["error"]["message"])
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(json.dumps({"failure": str(e)}))
        sys.exit(1)
