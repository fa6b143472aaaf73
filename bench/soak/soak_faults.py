"""The soak's fault driver (grpcio): request kinds, their accounting, the drain.

Every call is recorded once in a Ledger as (client, kind, final status); the
status decides finished / rejected / cancelled / error (see classify).
Imported by soak.py; needs the generated stubs (gqa.v1) on sys.path.
"""
import collections
import itertools
import signal
import threading
import time

_ids = itertools.count()

# Statuses the server returns for a bad or refused request.
REJECTED = {"INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "OUT_OF_RANGE", "ALREADY_EXISTS",
            "FAILED_PRECONDITION"}
CANCELLED = {"CANCELLED", "DEADLINE_EXCEEDED"}


def classify(kind, status):
    if status == "OK":
        return "finished"
    if status in CANCELLED:
        return "cancelled"
    if status in REJECTED:
        return "rejected"
    if status in ("UNIMPLEMENTED", "INTERNAL") and kind == "malformed_bytes":
        # gRPC C++ refuses undecodable bytes itself, before our handler; its
        # callback API answers UNIMPLEMENTED (grpc/grpc#30454).
        return "rejected"
    if status == "UNAVAILABLE" and kind == "after_sigterm":
        return "rejected"  # draining
    return "errors"


class Ledger:
    def __init__(self):
        self.mu = threading.Lock()
        self.by = collections.Counter()
        self.cls = collections.Counter()
        self.open = 0
        self.error_samples = []

    def start(self):
        with self.mu:
            self.open += 1

    def end(self, client, kind, status, detail=""):
        with self.mu:
            self.open -= 1
        self.record(client, kind, status, detail)

    def record(self, client, kind, status="", detail=""):
        if status == "":  # gqa-bench passes (client, status)
            kind, status = "-", kind
        c = classify(kind, status)
        with self.mu:
            self.by[(client, kind, status)] += 1
            self.cls[c] += 1
            if c == "errors" and len(self.error_samples) < 20:
                self.error_samples.append(f"{client} {kind}: {status} {detail[:200]}")

    def open_calls(self):
        with self.mu:
            return self.open

    def snapshot(self):
        with self.mu:
            out = {k: self.cls.get(k, 0) for k in ("finished", "rejected", "cancelled", "errors")}
            out["sent"] = sum(self.cls.values()) + self.open
            out["open"] = self.open
            out["by"] = dict(self.by)
            out["error_samples"] = list(self.error_samples)
            return out


def _stub(address):
    import grpc
    from gqa.v1 import generation_pb2_grpc
    channel = grpc.insecure_channel(address)
    return channel, generation_pb2_grpc.GenerationStub(channel)


def model_info(address):
    from gqa.v1 import generation_pb2 as pb
    channel, stub = _stub(address)
    m = stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=60)
    channel.close()
    ctx = m.context_length
    if m.kv_cache_tokens:
        ctx = min(ctx, m.kv_cache_tokens)
    return {"name": m.name, "vocab": m.vocab_size,
            "context": m.context_length, "max_total": ctx, "eos": list(m.eos_token_ids)}


def _request(info, rng, prompt_len, max_tokens, **kw):
    from gqa.v1 import generation_pb2 as pb
    ids = [rng.randrange(3, info["vocab"]) for _ in range(prompt_len)]
    return pb.GenerateRequest(
        request_id=f"soak-{next(_ids)}", prompt_token_ids=pb.TokenIds(ids=ids),
        sampling=pb.SamplingParams(temperature=rng.choice([0.0, 0.8]), seed=rng.randrange(1000)),
        stopping=pb.StoppingCriteria(max_tokens=max_tokens, ignore_eos=True), **kw)


def _code(e):
    return e.code().name if hasattr(e, "code") and e.code() else "UNKNOWN"


def _stream(stub, ledger, kind, req, timeout=120, cancel_after=None):
    """Reads the stream; cancels after `cancel_after` messages when set."""
    import grpc
    ledger.start()
    call = stub.GenerateStream(req, timeout=timeout)
    n = 0
    try:
        for _ in call:
            n += 1
            if cancel_after is not None and n >= cancel_after:
                call.cancel()
        ledger.end("fault", kind, "OK")
    except grpc.RpcError as e:
        ledger.end("fault", kind, _code(e), str(e.details()))


def _unary(stub, ledger, kind, req, timeout=120, cancel_after_s=None, rng=None):
    import grpc
    ledger.start()
    fut = stub.Generate.future(req, timeout=timeout)
    if cancel_after_s is not None:
        time.sleep(cancel_after_s)
        fut.cancel()
    try:
        fut.result()
        ledger.end("fault", kind, "OK")
    except grpc.FutureCancelledError:
        ledger.end("fault", kind, "CANCELLED")
    except grpc.RpcError as e:
        ledger.end("fault", kind, _code(e), str(e.details()))


def _malformed(stub, channel, info, rng, ledger):
    import grpc
    from gqa.v1 import generation_pb2 as pb
    choice = rng.randrange(5)
    if choice == 4:  # bytes that are no GenerateRequest
        call = channel.unary_unary("/gqa.v1.Generation/Generate")  # bytes in, bytes out
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        ledger.start()
        try:
            call(b"\xff\xff\xff" + data, timeout=30)
            ledger.end("fault", "malformed_bytes", "OK")
        except grpc.RpcError as e:
            ledger.end("fault", "malformed_bytes", _code(e), str(e.details()))
        return
    req = _request(info, rng, 8, 4)
    if choice == 0:
        req.prompt_token_ids.ids.append(info["vocab"] + rng.randrange(1000))
    elif choice == 1:
        req.sampling.temperature = -1
    elif choice == 2:
        req.top_logprobs = 99
    else:
        req.ClearField("prompt_token_ids")
    _unary(stub, ledger, "malformed", req, timeout=30)


def fault_worker(address, info, ledger, stop, rng, name):
    """Mixed calls until `stop`: plain, cancelled, short deadlines, bad input."""
    channel, stub = _stub(address)
    ctx = info["max_total"]
    while not stop.is_set():
        k = rng.random()
        plen, out = rng.randrange(4, 96), rng.randrange(1, 48)
        if k < 0.25:
            _stream(stub, ledger, "stream", _request(info, rng, plen, out))
        elif k < 0.45:
            _unary(stub, ledger, "unary", _request(info, rng, plen, out))
        elif k < 0.57:
            _stream(stub, ledger, "stream_cancel", _request(info, rng, plen, 64),
                    cancel_after=rng.randrange(1, 6))
        elif k < 0.67:
            _unary(stub, ledger, "unary_cancel", _request(info, rng, plen, 64),
                   cancel_after_s=rng.uniform(0, 0.3))
        elif k < 0.79:
            _stream(stub, ledger, "deadline", _request(info, rng, plen, 64),
                    timeout=rng.uniform(0.01, 0.1))
        elif k < 0.89:
            if rng.random() < 0.5:
                req = _request(info, rng, ctx + rng.randrange(1, 200), 4)
            else:
                req = _request(info, rng, 8, ctx + 100)
            _unary(stub, ledger, "oversized", req, timeout=30)
        else:
            _malformed(stub, channel, info, rng, ledger)
    channel.close()


def _parallel(fns):
    threads = [threading.Thread(target=f) for f in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def pressure_worker(address, info, ledger, stop, rng, args):
    """Alternates bursts past the queue limit and priority mixes (preemption)."""
    channel, stub = _stub(address)
    n = 0
    while not stop.is_set():
        if n % 2 == 0:  # twice the queue limit at once: RESOURCE_EXHAUSTED for some
            reqs = [_request(info, rng, 16, 16) for _ in range(2 * args.max_queued_requests)]
            _parallel([lambda r=r: _unary(stub, ledger, "burst", r) for r in reqs])
        else:  # long low-priority requests, then high-priority ones: preemption
            plen = min(160, info["max_total"] // 3)
            low = [_request(info, rng, plen, 160, priority=10) for _ in range(6)]
            high = [_request(info, rng, plen, 96, priority=-10) for _ in range(6)]
            fns = [lambda r=r: _stream(stub, ledger, "low", r) for r in low]

            def later():
                time.sleep(0.5)
                _parallel([lambda r=r: _stream(stub, ledger, "high", r) for r in high])
            _parallel(fns + [later])
        n += 1
        stop.wait(rng.uniform(1, 4))
    channel.close()


def drain(server, info, ledger):
    """Starts streams, SIGTERMs once they run, checks they end OK and exit 0."""
    import grpc
    import random
    rng = random.Random(7)
    channel, stub = _stub(server.address())
    results = []

    def one():
        req = _request(info, rng, 32, 64)
        ledger.start()
        try:
            for _ in stub.GenerateStream(req, timeout=120):
                pass
            ledger.end("drain", "in_flight", "OK")
            results.append(True)
        except grpc.RpcError as e:
            ledger.end("drain", "in_flight", _code(e), str(e.details()))
            results.append(False)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.metrics().get("gqa_requests_running", 0) < 1:
        time.sleep(0.05)
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    after = "n/a"
    if server.proc.poll() is None:  # a new request while draining: UNAVAILABLE
        ledger.start()
        try:
            stub.Generate(_request(info, rng, 8, 2), timeout=10)
            after = "OK"
        except grpc.RpcError as e:
            after = _code(e)
        ledger.end("drain", "after_sigterm", after)
    for t in threads:
        t.join(180)
    try:
        code = server.proc.wait(120)
    except Exception:
        code = None
    channel.close()
    return {"exit_code": code, "seconds": round(time.monotonic() - t0, 2),
            "streams": len(threads), "streams_ok": sum(results), "after_sigterm": after}
