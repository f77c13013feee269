"""The fake Bedrock's event stream encoder, checked with botocore's own decoder."""

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from .fake_bedrock import converse_body, encode_event, encode_exception, text_events, tool_use_events


def decoded(data: bytes, piece: int = 5):
    buffer = EventStreamBuffer()
    for start in range(0, len(data), piece):  # as a socket hands it over: frames cut anywhere
        buffer.add_data(data[start:start + piece])
    return list(buffer)


def test_events_decode_with_their_headers_and_payloads():
    events = text_events("Hé", " there")
    messages = decoded(b"".join(encode_event(kind, payload) for kind, payload in events))
    assert [m.headers[":event-type"] for m in messages] == [kind for kind, _ in events]
    assert {(m.headers[":message-type"], m.headers[":content-type"]) for m in messages} == {
        ("event", "application/json")}
    assert json.loads(messages[1].payload)["delta"] == {"text": "Hé"}
    assert all(m.to_response_dict()["status_code"] == 200 for m in messages)


def test_an_exception_decodes_as_an_error():
    (message,) = decoded(encode_exception("throttlingException", "Too many tokens"))
    response = message.to_response_dict()
    assert response["status_code"] == 400 and response["headers"][":exception-type"] == "throttlingException"
    assert json.loads(response["body"]) == {"message": "Too many tokens"}


@pytest.mark.parametrize("where", [2, 9, -3])  # prelude, headers, message checksum
def test_a_damaged_frame_fails_its_checksum(where):
    frame = bytearray(encode_event("messageStart", {"role": "assistant"}))
    frame[where] ^= 0x01
    with pytest.raises(ChecksumMismatch):
        decoded(bytes(frame))


def test_converse_answers_what_the_stream_adds_up_to():
    body = converse_body(tool_use_events([("t1", "get_stock_quote", '{"symbol": "AAPL"}'),
                                          ("t2", "get_stock_quote", '{"symbol": ')], text="Looking."))
    assert body["output"]["message"]["content"] == [
        {"text": "Looking."},
        {"toolUse": {"toolUseId": "t1", "name": "get_stock_quote", "input": {"symbol": "AAPL"}}},
        {"toolUse": {"toolUseId": "t2", "name": "get_stock_quote", "input": '{"symbol": '}}]
    assert body["stopReason"] == "tool_use" and body["usage"]["totalTokens"] == 30
