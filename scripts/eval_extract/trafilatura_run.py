#!/usr/bin/env python3
"""Run Python trafilatura on pages given on stdin, for `newsflow bench extract --trafilatura`.

Input: one JSON object per line, {"key", "url", "html"} (the page already decoded
to text by newsflow's own decoder, so both extractors read the same string).
Output: one JSON object per line, {"key", "title", "author", "date", "text",
"cpu", "cpu_body_only"}, where the CPU figures are `time.process_time()`
seconds around the extraction call alone: once with metadata (the quality
row) and once without (trafilatura's fastest mode, used for the speed ratio).

trafilatura is a benchmark peer, not a dependency: on first use this script
installs the pinned release from PyPI into `--target` (default
tools/py-trafilatura) with `pip install --target`, and imports it from there.
"""

import argparse
import json
import os
import subprocess
import sys
import time

VERSION = "2.3.1"


def ensure_installed(target: str) -> None:
    markers = [os.path.join(target, f"trafilatura-{VERSION}.dist-info")]
    markers += [os.path.join(target, "lxml_html_clean")]
    if not all(os.path.isdir(m) for m in markers):
        print(f"installing trafilatura {VERSION} into {target} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--upgrade", "--target", target, f"trafilatura=={VERSION}",
             # lxml moved its HTML cleaner out; trafilatura imports it.
             "lxml_html_clean"],
            check=True,
            stdout=sys.stderr,
        )
    sys.path.insert(0, os.path.abspath(target))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="tools/py-trafilatura")
    args = ap.parse_args()
    ensure_installed(args.target)

    import trafilatura  # noqa: E402  (installed above)

    if trafilatura.__version__ != VERSION:
        print(f"expected trafilatura {VERSION}, found {trafilatura.__version__}", file=sys.stderr)
        return 2

    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        page = json.loads(line)
        html, url = page["html"], page.get("url") or None

        t0 = time.process_time()
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        t1 = time.process_time()
        trafilatura.extract(html, url=url, with_metadata=False)
        t2 = time.process_time()

        d = {}
        if doc is not None:
            d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
        out.write(json.dumps({
            "key": page["key"],
            "title": d.get("title"),
            "author": d.get("author"),
            "date": d.get("date"),
            "text": d.get("text"),
            "cpu": t1 - t0,
            "cpu_body_only": t2 - t1,
        }, ensure_ascii=False) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
