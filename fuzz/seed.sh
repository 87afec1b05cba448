#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the fixtures (and ../shared/corpora when it is there).
# Run from anywhere; existing corpus files are kept.
set -euo pipefail
cd "$(dirname "$0")"
root=..
shared=../../shared/corpora
mkdir -p corpus/{feed,pubmed,html_page,config,asl}

prefixed() { # prefixed BYTE FILE OUT: BYTE then FILE's contents into OUT
  { printf "$1"; cat "$2"; } > "$3"
}

for f in "$root"/fixtures/sources/captures/*; do
  [ -f "$f" ] && prefixed '\x00' "$f" "corpus/feed/fixture-$(basename "$f")"
done
if [ -d "$shared/feeds" ]; then
  find "$shared/feeds" -type f ! -name '*.serde.json' ! -name 'date_vectors.json' |
    while read -r f; do prefixed '\x00' "$f" "corpus/feed/shared-$(basename "$f")"; done
fi

cp "$root"/fixtures/sources/captures/pubmed_lai/* corpus/pubmed/
if [ -d "$shared/pubmed" ]; then
  for f in "$shared"/pubmed/*; do cp "$f" "corpus/pubmed/shared-$(basename "$f")"; done
fi

cp "$root"/fixtures/sources/captures/nanexa_news/* corpus/html_page/

i=0
for f in clients/lai_weekly.yaml sources/catalog.yaml scopes/lai_companies.yaml \
  scopes/lai_molecules.yaml scopes/lai_trademarks.yaml scopes/lai_technologies.yaml \
  scopes/lai_exclusions.yaml scoring/lai_scoring.yaml; do
  prefixed "\\x0$i" "$root/fixtures/$f" "corpus/config/fixture-$i"
  i=$((i + 1))
done

prefixed '\x00' "$root/statemachine/newsletter.asl.json" corpus/asl/definition
printf '\x01$\n$.a\n$.r\n$\n$.a\n{"a":"x"}' > corpus/asl/paths
printf "\\x01\$.c\nStates.Format('{} x', \$.f)\n\$.c.r\n\$.c\n\$.d.e\n{\"c\":{\"f\":1,\"d.e\":2}}" > corpus/asl/intrinsic

for d in corpus/*; do echo "$d: $(ls "$d" | wc -l) files"; done
