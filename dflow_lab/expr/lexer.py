"""The expr-lang (github.com/expr-lang/expr) lexer: numbers, strings, identifiers, operators, brackets."""

from __future__ import annotations

from dataclasses import dataclass

from dflow_lab.expr.errors import MAX_SOURCE, EvalFailure

NUMBER, STRING, IDENT, OPERATOR, BRACKET, EOF = "Number", "String", "Identifier", "Operator", "Bracket", "EOF"

_WORD_OPERATORS = {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"}
_NEGATABLE = {"in", "matches", "contains", "startsWith", "endsWith"}


@dataclass(frozen=True)
class Tok:
    kind: str
    value: str
    pos: int

    def is_(self, kind: str, value: str | None = None) -> bool:
        return self.kind == kind and (value is None or self.value == value)

    def __str__(self) -> str:
        return f"{self.kind}({self.value!r})" if self.kind != EOF else "EOF"


def is_alphabetic(ch: str) -> bool:
    return ch == "_" or ch == "$" or ch.isalpha()


def is_alphanumeric(ch: str) -> bool:
    return is_alphabetic(ch) or ch.isdecimal()


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
                   "'": "'", '"': '"'}


def unescape(body: str, quote: str, pos: int) -> str:
    """Go-style string escapes: \\n \\t \\\\ \\' \\" \\xHH \\uHHHH \\UHHHHHHHH and octal \\NNN."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(body):
            raise EvalFailure("unable to unescape string", pos)
        c = body[i + 1]
        if c in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[c])
            i += 2
        elif c in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[c]
            digits = body[i + 2:i + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise EvalFailure("invalid char escape", pos)
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise EvalFailure("escape sequence is invalid Unicode code point", pos)
            out.append(chr(code))
            i += 2 + width
        elif c in "01234567":
            digits = body[i + 1:i + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise EvalFailure("invalid char escape", pos)
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise EvalFailure("invalid char escape", pos)
    return "".join(out)


def lex(src: str) -> list[Tok]:
    """Split an expression into tokens; raises EvalFailure with the position of a bad character."""
    if len(src) > MAX_SOURCE:
        raise EvalFailure(f"expression is longer than {MAX_SOURCE} characters")
    toks: list[Tok] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        start = i
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            j = i + 1
            while True:
                if j >= n or src[j] == "\n":
                    raise EvalFailure("literal not terminated", start)
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == ch:
                    break
                j += 1
            toks.append(Tok(STRING, unescape(src[i + 1:j], ch, start), start))
            i = j + 1
        elif ch == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise EvalFailure("literal not terminated", start)
            toks.append(Tok(STRING, src[i + 1:j], start))
            i = j + 1
        elif ch.isdecimal() and ch.isascii():
            i = _number(src, i, toks)
        elif ch == "?":
            i += 1
            if i < n and src[i] in ".?":
                i += 1
            toks.append(Tok(OPERATOR, src[start:i], start))
        elif ch == "/":
            if src.startswith("//", i):
                j = src.find("\n", i)
                i = n if j < 0 else j
            elif src.startswith("/*", i):
                j = src.find("*/", i + 2)
                if j < 0:
                    raise EvalFailure("unclosed comment", start)
                i = j + 2
            else:
                toks.append(Tok(OPERATOR, "/", start))
                i += 1
        elif ch == "#":
            toks.append(Tok(OPERATOR, "#", start))
            i += 1
        elif ch in "|:":
            i += 1
            if i < n and src[i] == ch:
                i += 1
            toks.append(Tok(OPERATOR, src[start:i], start))
        elif ch in "([{)]}":
            toks.append(Tok(BRACKET, ch, start))
            i += 1
        elif ch in ",;%+-^":
            toks.append(Tok(OPERATOR, ch, start))
            i += 1
        elif ch in "&!=*<>":
            i += 1
            if i < n and src[i] in "&=*":
                i += 1
            toks.append(Tok(OPERATOR, src[start:i], start))
        elif ch == ".":
            if i + 1 < n and src[i + 1].isdecimal() and src[i + 1].isascii():
                i = _number(src, i, toks)
            else:
                i += 2 if src.startswith("..", i) else 1
                toks.append(Tok(OPERATOR, src[start:i], start))
        elif is_alphanumeric(ch):
            j = i
            while j < n and is_alphanumeric(src[j]):
                j += 1
            word = src[i:j]
            i = j
            if word == "not":
                toks.append(Tok(OPERATOR, "not", start))
                k = i
                while k < n and src[k].isspace():
                    k += 1
                m = k
                while m < n and is_alphanumeric(src[m]):
                    m += 1
                if src[k:m] in _NEGATABLE:
                    toks.append(Tok(OPERATOR, src[k:m], k))
                    i = m
            elif word in _WORD_OPERATORS:
                toks.append(Tok(OPERATOR, word, start))
            else:
                toks.append(Tok(IDENT, word, start))
        else:
            raise EvalFailure(f"unrecognized character: {ch!r}", start)
    toks.append(Tok(EOF, "", n))
    return toks


def _number(src: str, i: int, toks: list[Tok]) -> int:
    start, n = i, len(src)
    digits = "0123456789_"
    if src[i] == "0" and i + 1 < n and src[i + 1] in "xXoObB":
        digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[src[i + 1].lower()]
        i += 2
    while i < n and src[i] in digits:
        i += 1
    if i < n and src[i] == ".":
        if i + 1 < n and src[i + 1] == ".":  # a range: 1..3
            toks.append(Tok(NUMBER, src[start:i], start))
            return i
        i += 1
        while i < n and src[i] in digits:
            i += 1
    if i < n and src[i] in "eE" and digits.startswith("0123456789_"):
        i += 1
        if i < n and src[i] in "+-":
            i += 1
        while i < n and src[i] in digits:
            i += 1
    if i < n and is_alphanumeric(src[i]):
        raise EvalFailure(f"bad number syntax: {src[start:i + 1]!r}", start)
    toks.append(Tok(NUMBER, src[start:i], start))
    return i
