"""Hostile files made on the fly: decompression bombs (a DOCX and a PDF a thousand times their size once
expanded), a billion-laughs DOCX and a truncated one."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
CHUNK = 16 * 2**20
_BLANKS = b" " * CHUNK


def _deflated_blanks(size: int) -> tuple[bytes, int]:
    """Raw deflate of ``size`` blanks (a multiple of 16 MiB) and how many blocks: after a full flush deflate
    starts afresh, so one compressed block repeated is the whole stream (seconds saved, not a shortcut in what
    the reader gets)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(_BLANKS) + squeeze.flush(zlib.Z_FULL_FLUSH)
    count = size // CHUNK
    return block * count + b"\x03\x00", count  # 03 00: an empty final block


def docx_bomb(expanded: int = 1200 * 2**20) -> bytes:
    """A zip whose word/document.xml holds ``expanded`` bytes (1.2 GB) of blanks in about a megabyte."""
    data, count = _deflated_blanks(expanded)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(_BLANKS, crc)
    size = count * CHUNK
    name = b"word/document.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
    head = out.getvalue()
    central_at = head.index(b"PK\x01\x02")
    local, central = head[:central_at], head[central_at:head.index(b"PK\x05\x06")]
    offset = len(local)
    local += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0)
    local += name + data
    central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(name),
                           0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 2, 2, len(central), len(local), 0)
    return local + central + end


def billion_laughs_docx() -> bytes:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY l0 "ha">{levels}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
           '<w:t>&l9;</w:t></w:r></w:p></w:body></w:document>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def pdf_bomb(expanded: int = 1500 * 2**20) -> bytes:
    """A one-page PDF whose content stream inflates to ``expanded`` bytes (1.5 GB) of blanks."""
    body, count = _deflated_blanks(expanded)
    check = 1
    for _ in range(count):
        check = zlib.adler32(_BLANKS, check)
    stream = b"\x78\xda" + body + struct.pack(">I", check)  # zlib: header, raw deflate, Adler-32
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
