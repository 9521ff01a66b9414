"""The page shell every server-rendered page shares: one inline stylesheet, allowed by its hash in a
strict Content-Security-Policy (no script, no outside resource), readable at 390 px and printable."""
from __future__ import annotations

import base64
import hashlib

import azure.functions as func

from blueprints.pages.text import esc

CSS = (
    ":root{--ink:#1b2430;--muted:#5b6675;--rule:#d5dae1;--band:#f3f5f7;--accent:#1f4e79;--pass:#1d6b3a;"
    "--fail:#a11d1d}"
    "*{box-sizing:border-box}html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);"
    "background:#fff}"
    "main{max-width:64rem;margin:0 auto;padding:1rem 1rem 3rem}main:has(>.wide){max-width:76rem}"
    "h1{font-size:1.45rem;line-height:1.25;margin:.75rem 0 .25rem;overflow-wrap:anywhere}"
    "h2{font-size:1.1rem;margin:2.25rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid var(--ink)}"
    "h3{font-size:.95rem;margin:1.25rem 0 .4rem}"
    "p,li,dd,td{overflow-wrap:anywhere}a{color:var(--accent)}"
    ".kicker{margin:0;color:var(--muted);font-size:.8rem;letter-spacing:.08em;text-transform:uppercase}"
    ".meta,.note{color:var(--muted);font-size:.875rem}"
    ".verdict{border-left:6px solid var(--muted);background:var(--band);padding:.75rem 1rem;margin:1rem 0;"
    "font-size:1.05rem}.verdict.pass{border-color:var(--pass)}.verdict.fail{border-color:var(--fail)}"
    ".verdict p{margin:.25rem 0}"
    ".badge{display:inline-block;font-size:.72rem;font-weight:700;letter-spacing:.06em;text-transform:uppercase;"
    "padding:.05rem .45rem;border-radius:2px;color:#fff;background:var(--muted);vertical-align:.12em}"
    ".badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}"
    ".bad{color:var(--fail);font-weight:600}.good{color:var(--pass);font-weight:600}"
    ".scroll{overflow-x:auto;max-width:100%;margin:.4rem 0 .8rem}.scroll.tall{max-height:24rem;overflow-y:auto}"
    # A shadow at an edge where the table goes on (the scroller's cover moves with the content): the hint
    # that a wide table scrolls sideways, in CSS alone.
    ".scroll{background:linear-gradient(90deg,#fff 40%,#fff0) 0 0/1.5rem 100% no-repeat local,"
    "linear-gradient(270deg,#fff 40%,#fff0) 100% 0/1.5rem 100% no-repeat local,"
    "linear-gradient(90deg,#1b243033,#1b243000) 0 0/.6rem 100% no-repeat scroll,"
    "linear-gradient(270deg,#1b243033,#1b243000) 100% 0/.6rem 100% no-repeat scroll}"
    "table{border-collapse:collapse;width:100%;font-size:.85rem;font-variant-numeric:tabular-nums}"
    "th,td{padding:.28rem .55rem;border-bottom:1px solid var(--rule);text-align:right;vertical-align:top;"
    "white-space:nowrap}th{font-weight:600;background:var(--band)}thead th{position:sticky;top:0}"
    "th:first-child,td:first-child,.text{text-align:left}td.text{white-space:normal;min-width:8rem}"
    "caption{caption-side:top;text-align:left;font-size:.8rem;color:var(--muted);padding:0 0 .25rem}"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem;"
    "word-break:break-all}td .mono{display:block;min-width:17rem}"
    ".figure{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.5rem 1.5rem;align-items:start;"
    "margin:.75rem 0 1.25rem}.figure svg{display:block;width:100%;height:auto}.figure th{white-space:normal}"
    ".pair svg{display:block;width:100%;max-width:19rem;height:auto}"
    ".pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,17rem),1fr));gap:.5rem 1.5rem}"
    "dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem 1rem;margin:.5rem 0;"
    "font-size:.9rem}dt{color:var(--muted)}dd{margin:0}"
    "nav.toc{display:flex;flex-wrap:wrap;gap:.15rem .9rem;font-size:.85rem}nav.toc a{white-space:nowrap}"
    ".ci{display:block;color:var(--muted);font-size:.75rem}.muted{color:var(--muted)}"
    "form{background:var(--band);padding:.75rem 1rem;margin:1rem 0;border:1px solid var(--rule)}"
    "input{font:inherit;padding:.35rem .45rem;border:1px solid #8e99a6;border-radius:2px;width:100%;"
    "max-width:28rem}label{display:block}"
    "button{font:inherit;font-weight:600;padding:.55rem 1.25rem;border:1px solid var(--accent);border-radius:3px;"
    "background:var(--accent);color:#fff;cursor:pointer}"
    "footer{margin-top:3rem;padding-top:.5rem;border-top:1px solid var(--rule);color:var(--muted);"
    "font-size:.8rem}"
    "@media (max-width:48rem){.figure{grid-template-columns:minmax(0,1fr)}}"
    # Phones: tighter tables whose headers and first column wrap; a table of class 'cards' shows each
    # row as a card: its first cell a heading line, the others in columns under the header row (the
    # first column's header left out), a 'span' cell on a line of its own, labelled.
    "@media (max-width:40rem){table{font-size:.8rem}th,td{padding:.25rem .35rem}th,td:first-child{white-space:normal}"
    "td.text{min-width:5rem}table.cards,table.cards thead,table.cards tbody,table.cards caption{display:block}"
    "table.cards tr{display:grid;grid-template-columns:repeat(var(--n,3),minmax(0,1fr));gap:.1rem .6rem;"
    "padding:.4rem .35rem;border-bottom:1px solid var(--rule)}"
    "table.cards th,table.cards td{display:block;border:0;padding:0;text-align:left;white-space:normal;min-width:0}"
    "table.cards thead tr{background:var(--band)}table.cards th:first-child,table.cards th.span{display:none}"
    "table.cards td:first-child{grid-column:1/-1;font-weight:600}table.cards td.span{grid-column:1/-1}"
    "table.cards td.span::before{content:attr(data-label) ': ';color:var(--muted)}table.cards td .mono{min-width:0}"
    ".n2{--n:2}.n3{--n:3}.n4{--n:4}.n5{--n:5}}"
    "@media (max-width:30rem){main{padding:.5rem .75rem 2rem}h1{font-size:1.25rem}"
    "dl.facts{grid-template-columns:minmax(0,1fr)}dd{margin-bottom:.35rem}}"
    "@media print{@page{margin:14mm}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font-size:9.5pt}main{max-width:none;padding:0}h2{break-after:avoid;margin-top:1.5rem}"
    ".figure,.verdict,tr,dl.facts{break-inside:avoid}.scroll,.scroll.tall{overflow:visible;max-height:none}"
    "th,td{white-space:normal}thead th{position:static}form,nav.toc,.noprint{display:none}.scroll{background:none}"
    "a{color:inherit;text-decoration:none}a[href^='http']::after{content:' <' attr(href) '>';font-size:.8em;"
    "word-break:break-all}}"
)


def style_hash(css: str = CSS) -> str:
    """The CSP source of the inline stylesheet: 'sha256-' + base64 of its SHA-256."""
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")


CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src '{style_hash()}'; img-src data:; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def html_document(title: str, body: str, heading: str | None = None, refresh_seconds: int | None = None) -> str:
    """The whole page; `title` is plain text (escaped here), `body` is HTML already escaped by its renderer.
    `heading` is the h1 (default: the title; "" for none, when the body brings its own); `refresh_seconds`:
    the page reloads itself that often (a meta refresh, no script)."""
    h1 = esc(title) if heading is None else esc(heading)
    refresh = f"<meta http-equiv='refresh' content='{int(refresh_seconds)}'>" if refresh_seconds else ""
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>" + refresh +
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            # The empty icon: without one a browser asks for /favicon.ico, which the app does not serve.
            "<meta name='robots' content='noindex'><meta name='referrer' content='no-referrer'><link rel='icon' href='data:,'>"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            + (f"<h1>{h1}</h1>" if h1 else "") + body + "</main></body></html>")


def response(title: str, body: str, status: int = 200, heading: str | None = None,
             refresh_seconds: int | None = None) -> func.HttpResponse:
    """The page as an HTTP response with the policy that allows exactly its stylesheet."""
    return func.HttpResponse(html_document(title, body, heading, refresh_seconds), status_code=status,
                             mimetype="text/html",
                             charset="utf-8", headers=dict(HEADERS))


def section(ident: str, title: str, body: str) -> str:
    return f"<section id='{esc(ident)}' aria-labelledby='{esc(ident)}-h'><h2 id='{esc(ident)}-h'>{esc(title)}</h2>{body}</section>"


def table(head: list[str], rows: list[list[str]], caption: str = "", tall: bool = False,
          text_columns: tuple[int, ...] = (), cards: int = 0, span_columns: tuple[int, ...] = ()) -> str:
    """A table in its own horizontal scroller, so a wide table never widens the page.
    `head` and `caption` are plain text; the cells of `rows` are HTML already escaped by the caller.
    `cards` (2–5): on a phone each row becomes a card, its first cell a heading line and the other cells
    in that many columns under the header row; cells of `span_columns` take a line of their own, labelled."""
    def th(i: int) -> str:
        names = " ".join(n for n, on in (("text", i in text_columns), ("span", cards and i in span_columns)) if on)
        return f" class='{names}'" if names else ""

    def td(i: int) -> str:
        label = f" data-label='{esc(head[i])}'" if cards and i in span_columns and i < len(head) else ""
        return th(i) + label

    header = "".join(f"<th scope='col'{th(i)}>{esc(h)}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f"<td{td(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>" for row in rows)
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    card = f" class='cards n{min(max(int(cards), 2), 5)}'" if cards else ""
    return (f"<div class='scroll{' tall' if tall else ''}' tabindex='0'><table{card}>{caption_html}<thead><tr>{header}"
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def facts(pairs: list[tuple[str, str]]) -> str:
    """A definition list; names are plain text, values HTML already escaped by the caller."""
    return "<dl class='facts'>" + "".join(f"<dt>{esc(name)}</dt><dd>{value}</dd>" for name, value in pairs) + "</dl>"


def figure(chart: str, numbers: str) -> str:
    """A chart with its numbers table beside it (below it on a narrow screen)."""
    return f"<div class='figure'><div>{chart}</div><div>{numbers}</div></div>"


def link(url, text: str) -> str:
    """A link when `url` is an absolute http(s) address, else the text and the value as plain text."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")) and not any(c in url for c in "\"'<> "):
        return f"<a href='{esc(url)}' rel='noreferrer noopener'>{esc(text)}</a>"
    return f"{esc(text)}: {esc(url) if url else 'not recorded'}"
