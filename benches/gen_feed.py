#!/usr/bin/env python3
"""Writes a synthetic RSS 2.0 feed for the benchmarks (benches/compare.sh).

Deterministic (fixed seed): the same arguments give the same bytes. Items look like trade-press
news on long-acting injectables, some naming the fixture client's watch lists, dated inside the
run window that ends on --date, with escaped HTML descriptions and a CDATA content:encoded body
padded to about --item-bytes per item.

    python3 benches/gen_feed.py --items 10000 --item-bytes 2400 --date 2026-11-23 > feed.xml
"""
import argparse
import datetime
import random
import sys
from email.utils import format_datetime

# About one item in ten names the fixture client's watch lists, as in a broad trade feed.
WATCHED_SHARE = 0.1
WATCHED_COMPANIES = ["Teva", "Camurus", "Indivior", "MedinCell", "Alkermes", "Gilead"]
WATCHED_PRODUCTS = ["Uzedy", "Brixadi", "Sublocade", "Invega Sustenna", "Aristada", "Sunlenca",
                    "paliperidone palmitate", "risperidone ISM", "cabotegravir", "leuprolide"]
OTHER_COMPANIES = [f"{a} {b}" for a in ("Acme", "Northwind", "Contoso", "Fabrikam", "Globex",
                                        "Initech", "Umbrella", "Vandelay", "Wayne", "Stark")
                   for b in ("Biologics", "Pharma", "Therapeutics", "Bio", "Health")]
OTHER_PRODUCTS = ["a monoclonal antibody", "an oral tablet", "a gene therapy", "a CAR-T therapy",
                  "a vaccine candidate", "a biosimilar", "an antisense oligonucleotide",
                  "a kinase inhibitor", "a diagnostic test", "an mRNA therapy"]
INDICATIONS = ["schizophrenia", "opioid use disorder", "HIV", "prostate cancer", "psoriasis",
               "asthma", "migraine", "obesity", "lupus", "sickle cell disease", "glaucoma",
               "atopic dermatitis", "multiple myeloma", "COPD", "Alzheimer's disease"]
EVENTS = ["reports Phase 3 results for", "wins FDA approval for", "files an NDA for",
          "signs a licensing deal on", "launches", "presents new data on", "cuts prices of"]
FILLER = ("The company said the new product reduced dosing frequency and improved "
          "adherence in the study population. Analysts expect the product to reach peak sales "
          "within five years. Safety findings were consistent with earlier trials. ").split()


def words(rng, n):
    return " ".join(rng.choice(FILLER) for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--item-bytes", type=int, default=2400)
    ap.add_argument("--date", default="2026-11-23", help="run date: items fall in the 7 days before")
    args = ap.parse_args()
    rng = random.Random(13)
    end = datetime.datetime.fromisoformat(args.date).replace(tzinfo=datetime.timezone.utc)
    out = sys.stdout
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
              '<title>Synthetic LAI wire</title>\n<link>https://bench.example.com/</link>\n'
              '<description>Benchmark feed</description>\n')
    for n in range(args.items):
        if rng.random() < WATCHED_SHARE:
            company, product = rng.choice(WATCHED_COMPANIES), rng.choice(WATCHED_PRODUCTS)
        else:
            company, product = rng.choice(OTHER_COMPANIES), rng.choice(OTHER_PRODUCTS)
        event = rng.choice(EVENTS)
        title = f"{company} {event} {product} in {rng.choice(INDICATIONS)} ({n})"
        published = end - datetime.timedelta(seconds=rng.randrange(1, 7 * 86400))
        lead = f"{company} {event} {product}. {words(rng, 30)}."
        head = (f"<item>\n<title>{title}</title>\n"
                f"<link>https://bench.example.com/news/{n}?utm_source=rss</link>\n"
                f'<guid isPermaLink="false">bench-{n}</guid>\n'
                f"<pubDate>{format_datetime(published)}</pubDate>\n"
                f"<dc:creator>Reporter {n % 37}</dc:creator>\n"
                f"<description>&lt;p&gt;{lead}&lt;/p&gt;</description>\n")
        body = f"<p>{lead}</p>"
        while len(head) + len(body) + 60 < args.item_bytes:
            body += f"<p>{words(rng, 25)} <b>{product}</b> &amp; {company}.</p>"
        out.write(f"{head}<content:encoded><![CDATA[{body}]]></content:encoded>\n</item>\n")
    out.write("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
