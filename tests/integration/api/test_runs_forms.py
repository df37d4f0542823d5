"""The multipart reader of run submissions gets the same parts however the body is split.

python-multipart reports a header in as many pieces as the network delivered it in; a body cut in
the middle of a ``Content-Disposition`` must still give every field and file its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from python_multipart.multipart import MultipartParser

from datamill.api.run_forms import _FormReceiver

BODY = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="params"\r\n\r\n'
    b'{"k": "from-the-caller"}\r\n'
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="data"; filename="d.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
    b"a,b\n1,2\n\r\n"
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="inputs"\r\n\r\n'
    b'{"code": "ABC"}\r\n'
    b"--XX--\r\n"
)


def received(chunks: Iterable[bytes], tmp_dir: Path) -> _FormReceiver:
    receiver = _FormReceiver(tmp_dir, 10**6)
    parser = MultipartParser(b"XX", receiver.callbacks())
    for chunk in chunks:
        parser.write(chunk)
    parser.finalize()
    return receiver


def assert_every_part(receiver: _FormReceiver, where: str) -> None:
    assert receiver.fields == {
        "params": '{"k": "from-the-caller"}',
        "inputs": '{"code": "ABC"}',
    }, where
    assert list(receiver.files) == ["data"], where
    upload = receiver.files["data"]
    assert (upload.filename, upload.size) == ("d.csv", 8), where
    assert upload.path.read_bytes() == b"a,b\n1,2\n", where
    receiver.discard()


def test_a_body_cut_at_any_point_gives_every_field_and_file(tmp_path: Path) -> None:
    for cut in range(1, len(BODY)):
        receiver = received([BODY[:cut], BODY[cut:]], tmp_path)
        assert_every_part(receiver, f"cut at byte {cut}: {BODY[:cut][-20:]!r}")


def test_a_body_arriving_one_byte_at_a_time_gives_every_field_and_file(tmp_path: Path) -> None:
    receiver = received((BODY[i : i + 1] for i in range(len(BODY))), tmp_path)
    assert_every_part(receiver, "one byte at a time")
    assert list(tmp_path.iterdir()) == []
