#!/usr/bin/env bash
# The figures the README records, on this machine, in one run:
#  1. `vectora parse` of a 10,000-item, 25 MB RSS feed, JSON lines written, against Python
#     feedparser on the same file (also writing JSON lines); best of 3 wall-clock times each.
#  2. A whole offline run (`vectora run --offline`) over the fixture configuration with one
#     source replaced by a 10,000-item feed dated inside the run window: wall time and peak
#     memory (GNU time's maximum resident set size).
# Builds the CLI as users do (`cargo build --release`). Needs python3 with feedparser
# (`pip install feedparser`) and GNU time (/usr/bin/time). Not part of CI.
#
#     benches/compare.sh            # work files under target/bench-compare
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/bench-compare
mkdir -p "$work"
python3 -c 'import feedparser' 2>/dev/null || {
  echo "error: Python feedparser is missing: pip install feedparser" >&2
  exit 1
}
[[ -x /usr/bin/time ]] || {
  echo "error: GNU time is missing: apt-get install time" >&2
  exit 1
}

cargo build --release --quiet --bin vectora
bin=target/release/vectora

feed="$work/feed-10k.xml"
python3 benches/gen_feed.py --items 10000 --item-bytes 2400 --date 2026-11-23 >"$feed"
mb=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.1f}')" "$feed")

# Best of 3 wall-clock seconds of a command, its stdout to a file.
best_of_3() {
  local out=$1; shift
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$out"
    t1=$(date +%s.%N)
    best=$(python3 -c "t=$t1-$t0; b='$best'; print(f'{min(t, float(b)) if b else t:.3f}')")
  done
  echo "$best"
}

echo "== parse: $mb MB, 10,000 items"
vectora_s=$(best_of_3 "$work/vectora.jsonl" "$bin" parse "$feed" --source-url https://bench.example.com/rss)
python_s=$(best_of_3 "$work/feedparser.jsonl" python3 benches/feedparser_parse.py "$feed")
v_items=$(wc -l <"$work/vectora.jsonl")
p_items=$(wc -l <"$work/feedparser.jsonl")
echo "vectora parse:      ${vectora_s} s  ($v_items items)"
echo "python feedparser:  ${python_s} s  ($p_items items)"
python3 -c "print(f'speed-up: {$python_s/$vectora_s:.1f}x (target: at least 20x)')"

echo "== offline run over 10,000 items"
config="$work/config"
rm -rf "$config" "$work/store"
cp -r fixtures "$config"
# The synthetic feed stands in for one source's capture; the other sources keep theirs.
python3 benches/gen_feed.py --items 10000 --item-bytes 900 --date 2026-11-23 >"$config/sources/captures/fiercepharma.xml"
/usr/bin/time -f '%e %M' -o "$work/time.txt" \
  "$bin" run --client lai_weekly --offline --date 2026-11-23 --config "$config" --store "$work/store" \
  >"$work/run.json" 2>"$work/run.log"
read -r run_s peak_kb <"$work/time.txt"
python3 - "$work/run.json" "$run_s" "$peak_kb" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
print(f"items analyzed: {out['items_analyzed']}, matched: {out['items_matched']}, "
      f"selected: {out['items_selected']}, status: {out['status']}")
print(f"wall time: {float(sys.argv[2]):.2f} s (target: under 1 s), peak memory: {int(sys.argv[3])/1024:.0f} MiB")
PY
echo "== machine"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%Y-%m-%d)"
