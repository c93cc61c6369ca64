#!/usr/bin/env python3
"""Seeds for the devcluster_http fuzz target, from the Mesos 1.12 fixtures.

Every request captured from a real client (scheduler calls in JSON and protobuf,
executor calls, SUBSCRIBE) becomes one input: a selector byte (0: master, 1: agent)
and the request's exact bytes, with the fixture's ids replaced by the harness's tokens
($FID, $SID, $AID, $OID, $TID, $EID, $UUID; see fuzz_targets/harness.rs) and the
Content-Length fixed. A few GETs of the read-only endpoints are added.

    python3 seeds/make_http_seeds.py ../../fixtures/mesos-1.12 corpus/devcluster_http
"""
import hashlib
import pathlib
import re
import sys

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def tokenize(body: str, executor: bool) -> str:
    body = re.sub(UUID + r"-O\d+", "$OID", body)
    body = re.sub(UUID + r"-S\d+", "$AID", body)
    body = re.sub(UUID + r"-\d{4}", "$FID", body)
    launch = '"LAUNCH' in body
    if not launch:
        body = re.sub(r'("task_id":\s*\{\s*"value":\s*)"[^"]*"', r'\1"$TID"', body)
        body = re.sub(r'("uuid":\s*)"[^"]*"', r'\1"$UUID"', body)
    if executor:
        body = re.sub(r'("executor_id":\s*\{\s*"value":\s*)"[^"]*"', r'\1"$EID"', body)
    return body


def request(head: bytes, body: bytes, executor: bool, text_body: bool) -> bytes:
    head_s = head.decode("latin-1")
    head_s = re.sub(r"(Mesos-Stream-Id: )" + UUID, r"\1$SID", head_s)
    if text_body:
        body = tokenize(body.decode("utf-8"), executor).encode("utf-8")
    head_s = re.sub(r"Content-Length: \d+", f"Content-Length: {len(body)}", head_s)
    return head_s.encode("latin-1") + body


def split_http(raw: bytes):
    """Head (up to and including the blank line) and body of one captured request."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head)
    body = body.replace(b"\r\n", b"\n")
    if m:
        body = body[: int(m.group(1))]
    return head + b"\r\n\r\n", body


def sections(text: str, start: str, end: str):
    for part in text.split(start)[1:]:
        yield part.split(end)[0].lstrip("\n")


def main(fixtures: pathlib.Path, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    seeds = []
    for f in sorted(fixtures.glob("scheduler-*/calls/*.exchange.txt")):
        text = f.read_text(encoding="utf-8", errors="replace")
        for raw in sections(text, "=== request (exact bytes)\n", "=== response"):
            head, body = split_http(raw.encode("utf-8"))
            binary = f.with_name(f.name.replace(".exchange.txt", ".request.bin"))
            if binary.exists():
                seeds.append(b"\0" + request(head, binary.read_bytes(), False, False))
            else:
                seeds.append(b"\0" + request(head, body, False, True))
    for f in sorted(fixtures.glob("executor/*/*.txt")):
        text = f.read_text(encoding="utf-8", errors="replace")
        for raw in sections(text, "--- request\n", "--- response"):
            head, body = split_http(raw.encode("utf-8"))
            seeds.append(b"\1" + request(head, body, True, True))
    for f in sorted(fixtures.glob("*/subscribe.request.json")):
        body = f.read_bytes()
        head = (
            "POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1:5050\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        selector = b"\1" if "executor" in str(f) else b"\0"
        if selector == b"\1":
            head = head.replace(b"/api/v1/scheduler", b"/api/v1/executor")
        seeds.append(selector + request(head, body, selector == b"\1", True))
    for path in ["/state", "/master/state.json", "/frameworks", "/slaves", "/tasks",
                 "/state-summary", "/health", "/version", "/redirect", "/master/redirect",
                 "/timeline", "/"]:
        seeds.append(b"\0GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:5050\r\n\r\n")
    for path in ["/state", "/slave(1)/state", "/files/browse?path=/", "/health"]:
        seeds.append(b"\1GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:5051\r\n\r\n")
    for s in seeds:
        (out / hashlib.sha1(s).hexdigest()).write_bytes(s)
    print(f"{len(seeds)} seeds written to {out}")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
