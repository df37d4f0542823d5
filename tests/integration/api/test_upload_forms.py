"""The multipart reader of dataset uploads gets the same parts however the body is split, like
that of run submissions (``test_runs_forms.py``): both gather a header's pieces."""

from __future__ import annotations

from pathlib import Path

from python_multipart.multipart import MultipartParser

from datamill.api.uploads import _Receiver

BODY = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="name"\r\n\r\n'
    b"Field notes\r\n"
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="file"; filename="notes.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
    b"a,b\n1,2\n\r\n"
    b"--XX--\r\n"
)


def test_an_upload_cut_at_any_point_keeps_its_file_name_and_fields(tmp_path: Path) -> None:
    for cut in range(1, len(BODY)):
        receiver = _Receiver(tmp_path / f"upload-{cut}", 10**6)
        parser = MultipartParser(b"XX", receiver.callbacks())
        parser.write(BODY[:cut])
        parser.write(BODY[cut:])
        parser.finalize()
        receiver.handle.close()
        where = f"cut at byte {cut}"
        assert (receiver.filename, receiver.file_size) == ("notes.csv", 8), where
        assert receiver.fields == {"name": "Field notes"}, where
        assert (tmp_path / f"upload-{cut}").read_bytes() == b"a,b\n1,2\n", where
