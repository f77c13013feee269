"""Pure tests: names, content checks, text extraction and passages."""

import io

import pytest

from knowledge.parsing import (
    DocumentError,
    html_to_text,
    markdown_to_text,
    parse_document,
    split_passages,
    validate_name,
)

MB = 1024 * 1024


def parse(name, data, limit=20 * MB):
    return parse_document(name, data, max_bytes=limit)


@pytest.mark.parametrize("name", ["../etc/passwd.md", "a/b.md", "..\\x.md", ".hidden.md", "bad\x00.md"])
def test_names_that_could_leave_the_folder_are_refused(name):
    with pytest.raises(DocumentError):
        validate_name(name)


def test_only_accepted_types_pass():
    assert validate_name("Notes on beta.md") == "Notes on beta.md"
    with pytest.raises(DocumentError, match="accepted"):
        validate_name("tool.exe")


def test_empty_file_is_refused_with_a_clear_message():
    with pytest.raises(DocumentError, match="is empty"):
        parse("a.md", b"")


def test_a_file_over_the_limit_is_refused_with_its_size():
    with pytest.raises(DocumentError, match=r"50\.0 MB; the limit is 20 MB"):
        parse("big.md", b"a" * (50 * MB))


def test_a_binary_file_named_md_is_refused():
    with pytest.raises(DocumentError, match="binary"):
        parse("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def test_non_utf8_text_is_refused_with_the_position():
    with pytest.raises(DocumentError, match=r"not UTF-8 text \(byte 0xe9 at position 4\)"):
        parse("latin.txt", "Caf\u00e9 cr\u00e8me".encode("latin-1").replace(b"Caf", b"Cafe"))


def test_whitespace_only_has_no_text():
    with pytest.raises(DocumentError, match="no text"):
        parse("blank.md", b"   \n\n  ")


def test_markdown_title_sections_and_markup():
    doc = parse("x.md", b"# Beta\n\nIntro **bold** and [a link](http://x).\n\n## Reading\n\n- one\n- two\n")
    assert doc.title == "Beta" and doc.content_type == "text/markdown"
    assert [s.heading for s in doc.sections] == ["Beta", "Reading"]
    assert "Intro bold and a link." in doc.sections[0].text


def test_headings_inside_code_fences_are_text():
    doc = parse("x.md", b"# T\n\n```\n# not a heading\n```\nafter\n")
    assert [s.heading for s in doc.sections] == ["T"]


def test_title_falls_back_to_the_file_name():
    assert parse("risk_metrics-101.txt", b"plain words").title == "Risk metrics 101"


def test_html_is_sanitised_to_text():
    html = (b"<html><head><title>Quotes</title><script>alert('x')</script><style>p{}</style></head>"
            b"<body><h1>Reading</h1><p>Bid &amp; ask <b>spread</b></p><iframe>evil</iframe>"
            b"<img src=x onerror=alert(1)></body></html>")
    doc = parse("q.html", html)
    assert doc.title == "Quotes"
    text = doc.text
    assert "Bid & ask spread" in text
    assert "alert" not in text and "evil" not in text and "<" not in text


def test_markdown_with_embedded_html_is_sanitised():
    assert "script" not in markdown_to_text("Hi <script>steal()</script><b>there</b>")
    assert html_to_text("a <em>b</em>") == "a b"


def test_a_pdf_with_text_is_read_and_a_fake_one_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="no extractable text"):
        parse("blank.pdf", buf.getvalue())
    with pytest.raises(DocumentError, match="not a PDF"):
        parse("fake.pdf", b"hello")


def test_passages_keep_paragraphs_and_stay_bounded():
    body = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10))
    doc = parse("long.md", f"# Long\n\n{body}".encode())
    passages = split_passages(doc)
    assert len(passages) > 2
    assert all(len(p.text.split()) <= 300 for p in passages)
    assert all(p.heading == "Long" for p in passages)


def test_a_huge_paragraph_is_cut_at_sentences():
    para = " ".join(f"Sentence number {i} is here." for i in range(200))
    passages = split_passages(parse("s.txt", para.encode()))
    assert len(passages) > 3 and all(len(p.text.split()) <= 300 for p in passages)


def test_text_without_sentence_ends_is_cut_by_words():
    passages = split_passages(parse("log.txt", ("token " * 2000).encode()))
    assert len(passages) >= 10 and all(len(p.text.split()) <= 300 for p in passages)
