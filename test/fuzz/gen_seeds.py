#!/usr/bin/env python3
"""Generate the fuzzers' seed corpora and dictionary from the project itself.

    gen_seeds.py OUTDIR

writes
    OUTDIR/source/   ECL sources: every ECL snippet in the pg_regress suites
                     (test/sql/*.sql string literals passed to ecl.eval,
                     ecl.compile, ecl.register_policy, ...), in the demo
                     (test/demo/*.sql) and in the docs (docs/*.md code blocks
                     and the SQL literals inside ```sql blocks)
    OUTDIR/json/     JSON texts: every literal of the suites that parses as
                     JSON (inputs, stored values), plus generated edge cases
                     (nesting at the limit, escapes, number extremes)
    OUTDIR/ecl.dict  libFuzzer dictionary: the keywords and operators of
                     include/ecl/lexer.h and the built-in names of
                     include/ecl/opcodes.h

The bytecode corpus is made from OUTDIR/source by run.sh (every source that
compiles, saved by fuzz_compile with FUZZ_SAVE_BYTECODE).
"""
import hashlib
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# A literal is taken as ECL when it has one of these words (SQL literals
# that are names, JSON, or plain text are not).
ECL_HINT = re.compile(
    r"\b(return|require|policy|let|emit|for|if|const|store_\w+|trust\w*|"
    r"has_credential|resolve_did|get_\w+|log|caller|input)\b")


def sql_literals(text):
    """Yield the string literals of SQL text: '...' (with '' and E'' escapes
    taken literally enough) and $tag$...$tag$, skipping -- comments."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "'":
            j, buf = i + 1, []
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            yield "".join(buf)
            i = j + 1
        elif c == "$":
            m = re.match(r"\$([A-Za-z_]\w*)?\$", text[i:])
            if not m:
                i += 1
                continue
            tag = m.group(0)
            end = text.find(tag, i + len(tag))
            if end < 0:
                i += len(tag)
                continue
            yield text[i + len(tag):end]
            i = end + len(tag)
        else:
            i += 1


def md_blocks(text):
    """Yield (info, body) of every fenced code block of a Markdown text."""
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
        yield m.group(1), m.group(2)


class Corpus:
    def __init__(self, outdir, name):
        self.dir = os.path.join(outdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0

    def add(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not data.strip():
            return
        name = hashlib.sha1(data).hexdigest()[:16]
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count += 1


def classify(lit, sources, jsons):
    stripped = lit.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("null", "true", "false"):
        try:
            json.loads(stripped)
            jsons.add(lit)
            return
        except ValueError:
            pass
    if ECL_HINT.search(lit):
        sources.add(lit)


def generated_json(jsons):
    depth_limit = 256          # ECL_MAX_NESTING
    for d in (depth_limit - 1, depth_limit, depth_limit + 1):
        jsons.add("[" * d + "]" * d)
        jsons.add('{"a":' * d + "1" + "}" * d)
    for text in ('"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"', '"\\ud800"', '"\\udc00x"',
                 "1e308", "1e309", "-1e-400", "-0", "0.30000000000000004",
                 "9007199254740993", '{"a":1,"a":2}', '{"":[]}', "[1,[2,[3]]]",
                 '{"r":0.1,"i":0.2,"c":0.3,"p":0.4,"v":0.5,"omega":0.6}'):
        jsons.add(text)
    jsons.add(b'"\xc3\x28"')            # invalid UTF-8
    jsons.add(b'"\xf4\x90\x80\x80"')    # beyond U+10FFFF


def dictionary(path):
    words = set()
    lexer = open(os.path.join(ROOT, "include/ecl/lexer.h")).read()
    for m in re.finditer(r'X\(\w+,\s*"((?:[^"\\]|\\.)*)",\s*(NULL|"(\w+)")\)', lexer):
        desc, kw = m.group(1), m.group(3)
        if kw:
            words.add(kw)
        elif desc.startswith("'") and desc.endswith("'"):
            words.add(desc[1:-1])
    opcodes = open(os.path.join(ROOT, "include/ecl/opcodes.h")).read()
    for m in re.finditer(r'X\("(\w+)",\s*\w+,\s*\d+,\s*\d+\)', opcodes):
        words.add(m.group(1))
    # context names and trust dimensions (docs/language.md §5)
    words.update(["caller", "sender", "requester", "realm", "input", "trust",
                  ".r", ".i", ".c", ".p", ".v", ".omega", "/*", "*/", "//",
                  "\\u00e9", "did:key:z6Mk"])
    with open(path, "w") as f:
        for w in sorted(words):
            f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))
    return len(words)


def main():
    outdir = sys.argv[1]
    sources = Corpus(outdir, "source")
    jsons = Corpus(outdir, "json")
    sqlfiles = []
    for d in ("test/sql", "test/demo"):
        full = os.path.join(ROOT, d)
        if os.path.isdir(full):
            sqlfiles += [os.path.join(full, f) for f in sorted(os.listdir(full))
                         if f.endswith(".sql")]
    for path in sqlfiles:
        for lit in sql_literals(open(path, encoding="utf-8", errors="replace").read()):
            classify(lit, sources, jsons)
    docs = os.path.join(ROOT, "docs")
    for f in sorted(os.listdir(docs)):
        if not f.endswith(".md"):
            continue
        for info, body in md_blocks(open(os.path.join(docs, f), encoding="utf-8").read()):
            if info in ("", "ecl"):
                if ECL_HINT.search(body):
                    sources.add(body)
            elif info == "sql":
                for lit in sql_literals(body):
                    classify(lit, sources, jsons)
            elif info == "json":
                jsons.add(body)
    generated_json(jsons)
    nwords = dictionary(os.path.join(outdir, "ecl.dict"))
    print("seeds: %d sources, %d JSON texts, %d dictionary words"
          % (sources.count, jsons.count, nwords))


if __name__ == "__main__":
    main()
