"""Tests for tests/llm_server.py, driven over HTTP by the real ``openai`` SDK."""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import threading
import time

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

try:  # tests/ on sys.path (rootdir-relative import, no tests/__init__.py)
    from llm_server import EMBEDDING_DIM, FakeLLMServer, RecordedRequest, Reply, fake_embedding
except ModuleNotFoundError:  # tests/ is a package
    from tests.llm_server import EMBEDDING_DIM, FakeLLMServer, RecordedRequest, Reply, fake_embedding

MSGS = [{"role": "user", "content": "hi"}]


@pytest.fixture
def srv():
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == []


def make_client(server: FakeLLMServer, *, max_retries: int = 0, timeout: float = 5.0, **kw) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=max_retries, timeout=timeout, **kw)


@pytest.fixture
def client(srv):
    c = make_client(srv)
    yield c
    c.close()


def raw_request(server: FakeLLMServer, method: str, path: str, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# --------------------------------------------------------------------------- chat completions


def test_plain_content_and_usage(srv, client):
    srv.enqueue(Reply.content("Hello there.", prompt_tokens=12, completion_tokens=3))
    r = client.chat.completions.create(model="gpt-x", messages=MSGS)
    assert r.object == "chat.completion"
    assert r.model == "gpt-x"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "Hello there."
    assert r.choices[0].message.refusal is None
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (12, 3, 15)


def test_finish_reason_length(srv, client):
    srv.enqueue(Reply.content("truncat", finish_reason="length"))
    r = client.chat.completions.create(model="m", messages=MSGS)
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == "truncat"


def test_fifo_and_default_reply():
    with FakeLLMServer(default=Reply.content("fallback")) as s:
        c = make_client(s)
        s.enqueue(Reply.content("one"), Reply.content("two"))
        got = [c.chat.completions.create(model="m", messages=MSGS).choices[0].message.content for _ in range(4)]
        assert got == ["one", "two", "fallback", "fallback"]
        assert s.queued == 0
        c.close()


def test_default_callable_receives_request_json():
    seen = []

    def answer(req: dict) -> Reply:
        seen.append(req)
        return Reply.content("echo: " + req["messages"][-1]["content"])

    with FakeLLMServer(default=answer) as s:
        c = make_client(s)
        r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "ping"}], temperature=0.2)
        assert r.choices[0].message.content == "echo: ping"
        assert seen[0]["temperature"] == 0.2 and seen[0]["model"] == "m"
        c.close()
        assert s.errors == []


def test_no_reply_and_no_default_is_500(srv, client):
    with pytest.raises(openai.InternalServerError) as ei:
        client.chat.completions.create(model="m", messages=MSGS)
    assert ei.value.status_code == 500
    assert "no queued reply" in ei.value.message


def test_streaming_with_include_usage_assembles_exact_text(srv, client):
    text = "The quick brown fox jumps over the lazy dog. ✓ ünïcode"
    srv.enqueue(Reply.content(text, chunk_size=5, prompt_tokens=7, completion_tokens=11))
    chunks = list(client.chat.completions.create(
        model="m", messages=MSGS, stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert with_choices[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in with_choices[:-1])
    pieces = [c.choices[0].delta.content for c in with_choices if c.choices[0].delta.content]
    assert "".join(pieces) == text
    assert all(len(p) <= 5 for p in pieces) and len(pieces) == math.ceil(len(text) / 5)
    # the final chunk is the usage chunk, with no choices
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens,
            chunks[-1].usage.total_tokens) == (7, 11, 18)
    assert all(c.usage is None for c in chunks[:-1])


def test_streaming_without_include_usage_has_no_usage_chunk(srv, client):
    srv.enqueue(Reply.content("abcdefghij", chunk_size=4))
    chunks = list(client.chat.completions.create(model="m", messages=MSGS, stream=True))
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "abcdefghij"


def test_streaming_raw_wire_format(srv):
    srv.enqueue(Reply.content("hey", chunk_size=8))
    status, headers, body = raw_request(srv, "POST", "/v1/chat/completions", {
        "model": "m", "messages": MSGS, "stream": True, "stream_options": {"include_usage": True}})
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["connection"] == "close"
    events = [e for e in body.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e[6:]) for e in events[:-1]]
    assert [p["choices"][0]["delta"] for p in payloads[:-1]] == [
        {"role": "assistant", "content": "", "refusal": None}, {"content": "hey"}, {}]
    assert payloads[-1]["usage"]["total_tokens"] == 150


def test_refusal(srv, client):
    srv.enqueue(Reply.refusal("I can't help with that."))
    r = client.chat.completions.create(model="m", messages=MSGS)
    assert r.choices[0].message.content is None
    assert r.choices[0].message.refusal == "I can't help with that."


def test_refusal_streaming(srv, client):
    srv.enqueue(Reply.refusal("No can do, sorry."))
    chunks = list(client.chat.completions.create(model="m", messages=MSGS, stream=True))
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "No can do, sorry."
    assert all(not c.choices[0].delta.content for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_429_then_content_succeeds_with_sdk_retry(srv):
    srv.enqueue(Reply.status(429, headers={"retry-after-ms": "10"}), Reply.content("after retry"))
    c = make_client(srv, max_retries=1)
    t0 = time.monotonic()
    r = c.chat.completions.create(model="m", messages=MSGS)
    assert time.monotonic() - t0 < 2
    assert r.choices[0].message.content == "after retry"
    assert len(srv.chat_requests()) == 2
    assert [q.headers["x-stainless-retry-count"] for q in srv.requests] == ["0", "1"]
    c.close()


def test_429_without_retries_raises_rate_limit_error(srv, client):
    srv.enqueue(Reply.status(429))
    with pytest.raises(openai.RateLimitError) as ei:
        client.chat.completions.create(model="m", messages=MSGS)
    assert ei.value.status_code == 429
    assert ei.value.code == "rate_limit_exceeded"


def test_500_raises_internal_server_error(srv, client):
    srv.enqueue(Reply.status(500, headers={"x-request-id": "req_123"}))
    with pytest.raises(openai.InternalServerError) as ei:
        client.chat.completions.create(model="m", messages=MSGS)
    err = ei.value
    assert err.status_code == 500
    assert err.type == "server_error"
    assert err.request_id == "req_123"
    assert isinstance(err.body, dict) and "message" in err.body


@pytest.mark.parametrize("code,exc", [
    (400, openai.BadRequestError), (401, openai.AuthenticationError), (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError), (422, openai.UnprocessableEntityError), (503, openai.InternalServerError),
])
def test_status_codes_map_to_sdk_errors(srv, client, code, exc):
    srv.enqueue(Reply.status(code, body={"error": {"message": "custom", "type": "t", "param": None, "code": "c"}}))
    with pytest.raises(exc) as ei:
        client.chat.completions.create(model="m", messages=MSGS)
    assert ei.value.status_code == code
    assert ei.value.code == "c" and "custom" in ei.value.message


def test_malformed_json_body_raises_plain_json_decode_error(srv, client):
    # With openai 3.x the SDK does not wrap a 200 response whose JSON is broken:
    # json.JSONDecodeError from response.json() propagates as is (not an openai.APIError).
    srv.enqueue(Reply.malformed(b"{not json"))
    with pytest.raises(json.JSONDecodeError) as ei:
        client.chat.completions.create(model="m", messages=MSGS)
    assert not isinstance(ei.value, openai.OpenAIError)
    srv.enqueue(Reply.malformed(b""))
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model="m", messages=MSGS)


def test_malformed_non_json_content_type_returns_text(srv, client):
    # Non-JSON content type, non-strict client: the SDK hands back the body text instead of a ChatCompletion.
    srv.enqueue(Reply.malformed(b"<html>oops</html>", content_type="text/html"))
    assert client.chat.completions.create(model="m", messages=MSGS) == "<html>oops</html>"


def test_wrong_shape_json(srv, client):
    # Valid JSON of the wrong shape: a lax client returns it unvalidated, a strict client raises.
    srv.enqueue(Reply.malformed(b"[1, 2]"))
    assert client.chat.completions.create(model="m", messages=MSGS) == [1, 2]
    strict = make_client(srv, _strict_response_validation=True)
    srv.enqueue(Reply.malformed(b"[1, 2]"))
    with pytest.raises(openai.APIResponseValidationError):
        strict.chat.completions.create(model="m", messages=MSGS)
    strict.close()


def test_delay_longer_than_client_timeout_raises_timeout_fast(srv):
    c = make_client(srv, timeout=0.3)
    srv.enqueue(Reply.delay(30, Reply.content("too late")), Reply.content("on time"))
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="m", messages=MSGS)
    assert time.monotonic() - t0 < 5
    # the server is still usable, and the abandoned handler notices the disconnect
    assert c.chat.completions.create(model="m", messages=MSGS).choices[0].message.content == "on time"
    c.close()


def test_short_delay_within_timeout_succeeds(srv, client):
    srv.enqueue(Reply.delay(0.2, Reply.content("slow but fine")))
    t0 = time.monotonic()
    r = client.chat.completions.create(model="m", messages=MSGS)
    assert r.choices[0].message.content == "slow but fine"
    assert 0.15 < time.monotonic() - t0 < 3


def test_stream_then_hang_mid_stream_timeout(srv):
    c = make_client(srv, timeout=0.3)
    srv.enqueue(Reply.stream_then_hang("abcdefghijklmnopqrstuvwxyz", 30, chunk_size=4))
    received = []
    t0 = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        for chunk in c.chat.completions.create(model="m", messages=MSGS, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert time.monotonic() - t0 < 5
    assert "".join(p or "" for p in received) == "abcdefghijklm"  # first half only
    c.close()


def test_stream_then_hang_short_stall_completes(srv, client):
    srv.enqueue(Reply.stream_then_hang("hello world", 0.1, sent_chars=3))
    chunks = list(client.chat.completions.create(model="m", messages=MSGS, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "hello world"


def test_stream_then_hang_non_stream_request_times_out(srv):
    c = make_client(srv, timeout=0.3)
    srv.enqueue(Reply.stream_then_hang("partial body", 30))
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="m", messages=MSGS)
    c.close()


def test_stop_ends_pending_delay_quickly():
    s = FakeLLMServer().start()
    c = make_client(s, timeout=30)
    s.enqueue(Reply.delay(60, Reply.content("never")))
    outcome = {}

    def call():
        try:
            c.chat.completions.create(model="m", messages=MSGS)
        except Exception as exc:  # noqa: BLE001
            outcome["exc"] = exc

    th = threading.Thread(target=call, daemon=True)
    th.start()
    deadline = time.monotonic() + 3
    while not s.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.requests
    t0 = time.monotonic()
    s.stop()
    th.join(timeout=3)
    assert time.monotonic() - t0 < 3
    assert not th.is_alive()
    # the server drops the connection without answering
    assert isinstance(outcome["exc"], openai.APIConnectionError)
    assert not isinstance(outcome["exc"], openai.APITimeoutError)
    c.close()


# --------------------------------------------------------------------------- response_format support


JSON_SCHEMA_RF = {"type": "json_schema", "json_schema": {
    "name": "x", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}


def test_json_schema_unsupported_is_400_and_keeps_queue():
    with FakeLLMServer(supports_json_schema=False) as s:
        c = make_client(s)
        s.enqueue(Reply.content('{"a": "b"}'))
        with pytest.raises(openai.BadRequestError) as ei:
            c.chat.completions.create(model="m", messages=MSGS, response_format=JSON_SCHEMA_RF)
        assert ei.value.status_code == 400
        assert "response_format json_schema is not supported" in ei.value.message
        assert ei.value.type == "invalid_request_error"
        assert s.queued == 1
        # json_object is still supported and gets the queued reply
        r = c.chat.completions.create(model="m", messages=MSGS, response_format={"type": "json_object"})
        assert r.choices[0].message.content == '{"a": "b"}'
        assert s.queued == 0
        assert len(s.chat_requests()) == 2
        c.close()


def test_json_mode_unsupported_is_400_and_keeps_queue():
    with FakeLLMServer(supports_json_mode=False) as s:
        c = make_client(s)
        s.enqueue(Reply.content("plain"))
        with pytest.raises(openai.BadRequestError) as ei:
            c.chat.completions.create(model="m", messages=MSGS, response_format={"type": "json_object"})
        assert "response_format json_object is not supported" in ei.value.message
        assert s.queued == 1
        r = c.chat.completions.create(model="m", messages=MSGS, response_format=JSON_SCHEMA_RF)
        assert r.choices[0].message.content == "plain"
        c.close()


# --------------------------------------------------------------------------- embeddings


def test_embeddings_shape_and_usage(srv, client):
    r = client.embeddings.create(model="emb", input=["alpha", "beta", "gamma"])
    assert r.object == "list" and r.model == "emb"
    assert [d.index for d in r.data] == [0, 1, 2]
    assert all(d.object == "embedding" and len(d.embedding) == EMBEDDING_DIM for d in r.data)
    for d in r.data:
        assert math.isclose(math.sqrt(sum(x * x for x in d.embedding)), 1.0, rel_tol=1e-5)
    assert r.usage.prompt_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens
    single = client.embeddings.create(model="emb", input="alpha")
    assert len(single.data) == 1


def test_embeddings_are_deterministic_across_calls_servers_and_formats(srv, client):
    a = client.embeddings.create(model="e", input="deterministic text").data[0].embedding
    b = client.embeddings.create(model="e", input=["x", "deterministic text"]).data[1].embedding
    f = client.embeddings.create(model="e", input="deterministic text", encoding_format="float").data[0].embedding
    assert a == b  # the SDK default (base64 float32) is bit-identical between calls
    assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(a, f))
    assert f == fake_embedding("deterministic text")
    with FakeLLMServer() as other:
        c2 = make_client(other)
        assert c2.embeddings.create(model="e", input="deterministic text").data[0].embedding == a
        c2.close()


def test_similar_strings_are_closer(srv, client):
    texts = ["the cat sat on the mat", "the cat sat on a mat", "quantum chromodynamics lecture notes"]
    v = [d.embedding for d in client.embeddings.create(model="e", input=texts).data]
    assert cosine(v[0], v[1]) > cosine(v[0], v[2]) + 0.3
    assert cosine(v[0], v[1]) > 0.7


def test_embeddings_bad_input_is_400(srv, client):
    with pytest.raises(openai.BadRequestError):
        client.post("/embeddings", body={"model": "e"}, cast_to=object)


# --------------------------------------------------------------------------- misc endpoints, recording


def test_models_list(srv, client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["test-model"]
    assert client.models.retrieve("test-model").id == "test-model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_unknown_path_is_openai_shaped_404(srv, client):
    with pytest.raises(openai.NotFoundError) as ei:
        client.post("/nonexistent", body={}, cast_to=object)
    assert ei.value.type == "invalid_request_error"
    status, headers, body = raw_request(srv, "GET", "/v1/chat/completions")
    assert status == 404
    assert set(json.loads(body)["error"]) == {"message", "type", "param", "code"}


def test_paths_without_v1_prefix(srv):
    c = OpenAI(base_url=srv.root_url, api_key="sk-test", max_retries=0, timeout=5)
    srv.enqueue(Reply.content("no prefix"))
    assert c.chat.completions.create(model="m", messages=MSGS).choices[0].message.content == "no prefix"
    assert len(c.embeddings.create(model="e", input="x").data[0].embedding) == EMBEDDING_DIM
    assert [m.id for m in c.models.list()] == ["test-model"]
    assert [r.path for r in srv.requests] == ["/chat/completions", "/embeddings", "/models"]
    assert len(srv.chat_requests()) == 1
    c.close()


def test_json_responses_have_content_type_and_length(srv):
    srv.enqueue(Reply.content("x"))
    for method, path, body in [("POST", "/v1/chat/completions", {"model": "m", "messages": MSGS}),
                               ("POST", "/v1/embeddings", {"model": "e", "input": "x"}),
                               ("GET", "/v1/models", None), ("GET", "/nope", None)]:
        status, headers, raw = raw_request(srv, method, path, body)
        assert headers["content-type"] == "application/json"
        assert int(headers["content-length"]) == len(raw)
        json.loads(raw)


def test_requests_are_recorded_with_body(srv, client):
    srv.enqueue(Reply.content("ok"))
    client.chat.completions.create(model="m", messages=MSGS, temperature=0, extra_headers={"X-Trace": "t1"})
    client.embeddings.create(model="e", input="x")
    assert len(srv.requests) == 2
    chat, emb = srv.requests
    assert isinstance(chat, RecordedRequest)
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert json.loads(chat.body) == chat.json == {"model": "m", "messages": MSGS, "temperature": 0}
    assert chat.headers["Authorization"] == "Bearer sk-test"
    assert chat.headers["authorization"] == "Bearer sk-test"
    assert chat.headers["x-trace"] == "t1"
    assert (emb.method, emb.path, emb.json["input"]) == ("POST", "/v1/embeddings", "x")
    assert srv.chat_requests() == [chat.json]
    srv.enqueue(Reply.content("left over"))
    srv.reset()
    assert srv.requests == [] and srv.chat_requests() == [] and srv.queued == 0


def test_invalid_json_request_body_is_400_and_recorded(srv):
    srv.enqueue(Reply.content("unused"))
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", body=b"{oops", headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 400
    assert json.loads(resp.read())["error"]["type"] == "invalid_request_error"
    conn.close()
    assert srv.requests[0].body == b"{oops" and srv.requests[0].json is None
    assert srv.queued == 1


def test_async_client_streaming(srv):
    srv.enqueue(Reply.content("async stream text", chunk_size=3))

    async def run() -> str:
        c = AsyncOpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0, timeout=5)
        try:
            stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
            return "".join([ch.choices[0].delta.content or "" async for ch in stream])
        finally:
            await c.close()

    assert asyncio.run(run()) == "async stream text"


def test_server_is_quiet_on_requests_and_client_disconnects(capfd):
    with FakeLLMServer() as s:
        c = make_client(s, timeout=0.2)
        s.enqueue(Reply.content("fine"), Reply.delay(30, Reply.content("x")),
                  Reply.stream_then_hang("abcdefgh", 30, chunk_size=2))
        c.chat.completions.create(model="m", messages=MSGS)
        with pytest.raises(openai.APITimeoutError):
            c.chat.completions.create(model="m", messages=MSGS)
        with pytest.raises(openai.APITimeoutError):
            list(c.chat.completions.create(model="m", messages=MSGS, stream=True))
        raw_request(s, "GET", "/whatever")
        c.close()
        time.sleep(0.1)  # let abandoned handlers notice the disconnects
        assert s.errors == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_base_url_and_restart():
    s = FakeLLMServer()
    with pytest.raises(RuntimeError):
        _ = s.base_url
    s.start()
    assert s.base_url.startswith("http://127.0.0.1:") and s.base_url.endswith("/v1")
    s.stop()
    s.stop()  # idempotent
