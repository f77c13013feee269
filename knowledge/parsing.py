"""Check a document's name and bytes, extract its text (HTML sanitised) and split it into passages."""

import io
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath

ALLOWED_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}
NAME_MAX = 200
PASSAGE_WORDS = 160  # a passage closes after this many words, at a paragraph end
PASSAGE_MAX_WORDS = 260  # a longer paragraph is cut at sentence ends


class DocumentError(ValueError):
    """The document cannot be accepted; the message is meant for the person who sent it."""


@dataclass
class Section:
    heading: str
    text: str


@dataclass
class Parsed:
    title: str
    content_type: str
    sections: list[Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True)
class Passage:
    heading: str
    text: str


def validate_name(name: str) -> str:
    """Return ``name`` if it is a plain file name with an accepted extension, else raise DocumentError."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise DocumentError("The file has no name.")
    if "/" in name or "\\" in name or ".." in name:
        raise DocumentError(f"“{name}”: file names may not contain '/', '\\' or '..'.")
    if name.startswith(".") or any(unicodedata.category(c).startswith("C") for c in name):
        raise DocumentError(f"“{name}”: file names may not start with '.' or contain control characters.")
    if len(name) > NAME_MAX:
        raise DocumentError(f"The file name is longer than {NAME_MAX} characters.")
    suffix_of(name)
    return name


def suffix_of(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        kinds = ", ".join(sorted(ALLOWED_TYPES))
        raise DocumentError(f"“{PurePosixPath(name).name}”: only {kinds} files are accepted.")
    return suffix


def parse_document(name: str, data: bytes, *, max_bytes: int) -> Parsed:
    """Validate ``data`` as the type its name says and return its title and sections."""
    label = PurePosixPath(name).name
    suffix = suffix_of(name)
    if not data:
        raise DocumentError(f"“{label}” is empty.")
    if len(data) > max_bytes:
        raise DocumentError(f"“{label}” is {len(data) / 2**20:.1f} MB; the limit is {max_bytes // 2**20} MB.")
    if suffix == ".pdf":
        parsed = _parse_pdf(label, data)
    else:
        text = decode_text(label, data)
        if suffix in (".html", ".htm"):
            parsed = parse_html(text)
        elif suffix == ".txt":
            parsed = Parsed("", "text/plain", _plain_sections(text))
        else:
            parsed = parse_markdown(text)
    parsed.content_type = ALLOWED_TYPES[suffix]
    parsed.sections = [s for s in parsed.sections if s.text.strip()]
    if not parsed.sections:
        raise DocumentError(f"“{label}” has no text to index.")
    parsed.title = (parsed.title or title_from_name(label)).strip()[:300]
    return parsed


def decode_text(label: str, data: bytes) -> str:
    """Decode UTF-8 (a BOM is allowed); tell binary files and other encodings apart in the message."""
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise DocumentError(f"“{label}” looks like a binary file, not text: check the file and its extension.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"“{label}” is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}): "
            "save it as UTF-8 and upload it again."
        ) from None


def title_from_name(name: str) -> str:
    stem = PurePosixPath(name).stem
    return re.sub(r"[_\-]+", " ", stem).strip().capitalize() or name


# --- Markdown -----------------------------------------------------------------------------------------------
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def parse_markdown(text: str) -> Parsed:
    text, front_title = _front_matter(text)
    title, sections = front_title, []
    heading, lines, in_code = "", [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        match = None if in_code else _HEADING.match(line)
        if match:
            sections.append(Section(heading, markdown_to_text("\n".join(lines))))
            heading, lines = markdown_to_text(match.group(2)), []
            if len(match.group(1)) == 1 and not title:
                title = heading
            continue
        lines.append(line)
    sections.append(Section(heading, markdown_to_text("\n".join(lines))))
    return Parsed(title, "text/markdown", sections)


def _front_matter(text: str) -> tuple[str, str]:
    if not text.startswith("---\n"):
        return text, ""
    end = text.find("\n---", 4)
    if end < 0:
        return text, ""
    title = ""
    for line in text[4:end].splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "title":
            title = value.strip().strip("'\"")
    return text[end + 4:].lstrip("\n"), title


_MD_RULES = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: keep the alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: keep the text
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),  # block quotes
    (re.compile(r"^\s*[-*+]\s+", re.MULTILINE), "• "),  # bullets
    (re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$", re.MULTILINE), ""),  # table rules
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])[*_](?!\s)(.+?)(?<!\s)[*_](?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s*([-*_]\s*){3,}$", re.MULTILINE), ""),  # horizontal rules
]


def markdown_to_text(text: str) -> str:
    """Plain text from Markdown: markup dropped, embedded HTML sanitised, paragraphs kept."""
    if "<" in text:
        text = html_to_text(text)
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("|"):
            line = " · ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- HTML: text only; scripts, styles and other active content never reach the index or a page -----------
_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head", "canvas"}
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote", "pre", "dd",
          "dt", "hr", "header", "footer", "main", "aside", "nav", "figure", "figcaption", "form"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.in_title = False
        self.in_heading: str | None = None
        self.title = ""
        self.first_h1 = ""
        self.sections: list[Section] = []
        self.heading = ""
        self.buf: list[str] = []
        self.heading_buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.in_title = True
        if tag in _SKIP:
            self.skip += 1
        elif tag in _HEADINGS and not self.skip:
            self._close_section()
            self.in_heading, self.heading_buf = tag, []
        elif tag in _BLOCK:
            self.buf.append("\n\n" if tag in ("p", "div", "table", "section", "article") else "\n")
        elif tag in ("td", "th"):
            self.buf.append(" · ")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.buf.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _HEADINGS and self.in_heading:
            self.heading = " ".join("".join(self.heading_buf).split())
            if self.in_heading == "h1" and not self.first_h1:
                self.first_h1 = self.heading
            self.in_heading = None
        elif tag in _BLOCK:
            self.buf.append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif self.skip:
            return
        elif self.in_heading:
            self.heading_buf.append(data)
        else:
            self.buf.append(data)

    def _close_section(self):
        self.sections.append(Section(self.heading, _tidy("".join(self.buf))))
        self.buf = []

    def result(self) -> Parsed:
        self.close()
        self._close_section()
        title = " ".join(self.title.split()) or self.first_h1
        return Parsed(title, "text/html", self.sections)


def parse_html(text: str) -> Parsed:
    extractor = _TextExtractor()
    extractor.feed(text)
    return extractor.result()


def html_to_text(text: str) -> str:
    """Sanitise HTML to plain text: tags dropped, script/style content removed, entities decoded."""
    return parse_html(text).text if "<" in text else text


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- Plain text and PDF ----------------------------------------------------------------------------------------
def _plain_sections(text: str) -> list[Section]:
    return [Section("", _tidy(text))]


def _parse_pdf(label: str, data: bytes) -> Parsed:
    if not data.startswith(b"%PDF-"):
        raise DocumentError(f"“{label}” is not a PDF file.")
    from pypdf import PdfReader  # (only when a PDF comes: 80 ms to import)
    from pypdf.errors import PdfReadError  # (with it)

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"“{label}” is password-protected; upload an unprotected copy.")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"“{label}” could not be read as a PDF ({exc}).") from None
    sections = [Section(f"Page {n}", _tidy(t)) for n, t in enumerate(pages, 1) if t.strip()]
    if not sections:
        raise DocumentError(f"“{label}” has no extractable text (a scanned PDF needs OCR first).")
    return Parsed(str(title), "application/pdf", sections)


# --- Passages ------------------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(•])")


def split_passages(parsed: Parsed) -> list[Passage]:
    """Split sections into passages of about PASSAGE_WORDS words, keeping paragraphs whole when they fit."""
    out: list[Passage] = []
    for section in parsed.sections:
        buf: list[str] = []
        count = 0
        for para in _paragraphs(section.text):
            words = len(para.split())
            if buf and count + words > PASSAGE_MAX_WORDS:
                out.append(Passage(section.heading, "\n\n".join(buf)))
                buf, count = [], 0
            buf.append(para)
            count += words
            if count >= PASSAGE_WORDS:
                out.append(Passage(section.heading, "\n\n".join(buf)))
                buf, count = [], 0
        if buf:
            # A short tail joins the previous passage of the same section rather than standing alone.
            if count < 40 and out and out[-1].heading == section.heading and out[-1].text:
                out[-1] = Passage(section.heading, out[-1].text + "\n\n" + "\n\n".join(buf))
            else:
                out.append(Passage(section.heading, "\n\n".join(buf)))
    return out


def _paragraphs(text: str) -> list[str]:
    paras = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if len(para.split()) <= PASSAGE_MAX_WORDS:
            paras.append(para)
            continue
        chunk: list[str] = []
        for sentence in _SENTENCE.split(para):
            chunk.append(sentence)
            if len(" ".join(chunk).split()) >= PASSAGE_WORDS:
                paras.append(" ".join(chunk))
                chunk = []
        if chunk:
            paras.append(" ".join(chunk))
    # Text without sentence ends (a log, a table dump) is cut by word count.
    out = []
    for para in paras:
        words = para.split()
        if len(words) <= PASSAGE_MAX_WORDS:
            out.append(para)
        else:
            out += [" ".join(words[i:i + PASSAGE_WORDS]) for i in range(0, len(words), PASSAGE_WORDS)]
    return out
