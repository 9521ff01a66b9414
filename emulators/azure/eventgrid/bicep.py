"""A small reader of the Bicep subset infra/ uses: params (with defaults), vars, resources, modules
and outputs, with object/array/string/number/bool literals, string interpolation, references
(`a.b.c`, `a[0]`) and function calls. Expressions it cannot evaluate stay as `Expr` values, so a
caller resolves only what it needs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+|//[^\n]*|/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]().,:=@?!])
""", re.X | re.S)


@dataclass(frozen=True)
class Ref:
    """A reference: a name and the member/index path after it (`functionApp.properties.x`)."""

    name: str
    path: tuple = ()


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Template:
    """An interpolated string: literal text and expressions, in order."""

    parts: tuple


@dataclass
class Declaration:
    kind: str  # param | var | resource | module | output
    name: str
    type: str = ""  # the param/output type, the resource type@version or the module path
    value: Any = None  # default (param), value (var/output) or body (resource/module)
    existing: bool = False
    decorators: list = field(default_factory=list)


def tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise ValueError(f"bicep: unexpected {text[position:position + 20]!r}")
        position = match.end()
        if match.lastgroup != "space":
            out.append((match.lastgroup, match.group()))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = tokens(text)
        self.at = 0

    def peek(self, skip_newlines: bool = True) -> tuple[str, str]:
        at = self.at
        while skip_newlines and at < len(self.items) and self.items[at][0] == "newline":
            at += 1
        return self.items[at] if at < len(self.items) else ("end", "")

    def take(self, expected: str | None = None, skip_newlines: bool = True) -> tuple[str, str]:
        while skip_newlines and self.at < len(self.items) and self.items[self.at][0] == "newline":
            self.at += 1
        item = self.items[self.at] if self.at < len(self.items) else ("end", "")
        if expected is not None and item[1] != expected:
            raise ValueError(f"bicep: expected {expected!r}, got {item[1]!r}")
        self.at += 1
        return item

    def declarations(self) -> list[Declaration]:
        found, decorators = [], []
        while self.peek()[0] != "end":
            kind, word = self.take()
            if word == "@":
                decorators.append(self.expression())
                continue
            if word in ("param", "output"):
                name, type_ = self.take()[1], self.take()[1]
                value = None
                if self.peek(False)[1] == "=":
                    self.take("=")
                    value = self.expression()
                found.append(Declaration(word, name, type_, value, decorators=decorators))
            elif word == "var":
                name = self.take()[1]
                self.take("=")
                found.append(Declaration("var", name, value=self.expression(), decorators=decorators))
            elif word in ("resource", "module"):
                name, type_ = self.take()[1], self.literal(self.take()[1])
                existing = self.peek()[1] == "existing"
                if existing:
                    self.take()
                self.take("=")
                found.append(Declaration(word, name, type_, self.expression(), existing, decorators))
            elif word == "targetScope":
                self.take("=")
                self.expression()
            else:
                raise ValueError(f"bicep: unexpected statement {word!r}")
            decorators = []
        return found

    def expression(self) -> Any:
        kind, word = self.take()
        if word == "{":
            value = self.object()
        elif word == "[":
            value = self.array()
        elif word == "(":
            value = self.expression()
            self.take(")")
        elif kind == "string":
            value = self.string(word)
        elif kind == "number":
            value = int(word)
        elif word in ("true", "false"):
            value = word == "true"
        elif word == "null":
            value = None
        elif kind == "name":
            value = self.reference(word)
        else:
            raise ValueError(f"bicep: unexpected {word!r}")
        return value

    def reference(self, name: str) -> Any:
        if self.peek(False)[1] == "(":
            self.take("(")
            args = []
            while self.peek()[1] != ")":
                args.append(self.expression())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take(")")
            return Call(name, tuple(args))
        path: list = []
        while self.peek(False)[1] in (".", "["):
            if self.take(skip_newlines=False)[1] == ".":
                path.append(self.take()[1])
            else:
                path.append(self.expression())
                self.take("]")
        return Ref(name, tuple(path))

    def object(self) -> dict:
        body = {}
        while self.peek()[1] != "}":
            kind, key = self.take()
            self.take(":")
            body[self.literal(key) if kind == "string" else key] = self.expression()
            if self.peek()[1] == ",":
                self.take(",")
        self.take("}")
        return body

    def array(self) -> list:
        values = []
        while self.peek()[1] != "]":
            values.append(self.expression())
            if self.peek()[1] == ",":
                self.take(",")
        self.take("]")
        return values

    @staticmethod
    def literal(token: str) -> str:
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), token[1:-1])

    def string(self, token: str) -> Any:
        text = token[1:-1]
        if "${" not in text:
            return self.literal(token)
        parts, position = [], 0
        for match in re.finditer(r"\$\{([^}]*)\}", text):
            parts.append(self.literal("'" + text[position:match.start()] + "'"))
            parts.append(_Parser(match.group(1)).expression())
            position = match.end()
        parts.append(self.literal("'" + text[position:] + "'"))
        return Template(tuple(p for p in parts if p != ""))


def parse(text: str) -> list[Declaration]:
    """The declarations of a Bicep file, in order."""
    return _Parser(text).declarations()


def parse_file(path: Path) -> list[Declaration]:
    return parse(Path(path).read_text(encoding="utf-8"))


def evaluate(value: Any, resolve: Callable[[Ref | Call], Any]) -> Any:
    """`value` with every reference and call replaced by `resolve(...)` (templates joined as text)."""
    if isinstance(value, dict):
        return {k: evaluate(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, resolve) for v in value]
    if isinstance(value, Template):
        return "".join(str(evaluate(part, resolve)) for part in value.parts)
    if isinstance(value, (Ref, Call)):
        return resolve(value)
    return value
