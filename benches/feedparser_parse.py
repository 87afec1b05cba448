#!/usr/bin/env python3
"""Python feedparser on a feed file, writing one JSON line per entry (title, link, published,
summary, content), as `vectora parse` does: the reference benchmarks/compare.sh measures against.

    python3 benches/feedparser_parse.py FEED > items.jsonl
"""
import json
import sys

import feedparser


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    feed = feedparser.parse(data)
    out = sys.stdout
    for e in feed.entries:
        out.write(json.dumps({
            "title": e.get("title", ""),
            "url": e.get("link", ""),
            "published": e.get("published", None),
            "summary": e.get("summary", ""),
            "text": (e.get("content") or [{}])[0].get("value", ""),
        }, ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
