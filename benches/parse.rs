//! `parse` throughput over a feed corpus: every feed-rs corpus file (beside the repository in
//! `../shared/corpora`, when present) and the fixture captures, normalized repeatedly, each item
//! written as the JSON line `vectora parse` prints (what a user waits for).
//! A benchmark, not a test: `cargo bench --bench parse` prints MB/s and items/s.
//! `benches/compare.sh` measures the CLI itself against Python feedparser.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vectora_inbox::normalize::{self, Format, Origin};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("xml" | "atom" | "rdf")
        ) || (path.extension().and_then(|e| e.to_str()) == Some("json")
            && !path.to_string_lossy().ends_with(".serde.json"))
        {
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("../shared/corpora/feeds"), &mut files);
    files_under(&root.join("fixtures/sources/captures"), &mut files);
    files.retain(|f| !f.to_string_lossy().contains("pubmed_lai"));
    files.sort();
    let docs: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|f| Some((f.display().to_string(), std::fs::read(f).ok()?)))
        .collect();
    let bytes_per_round: usize = docs.iter().map(|(_, b)| b.len()).sum();
    // Enough rounds for about 200 MB of input.
    let rounds = (200_000_000 / bytes_per_round.max(1)).max(1);
    let started = Instant::now();
    let (mut items, mut failures) = (0usize, 0usize);
    // Serialized as the CLI does; a sink, so the disk is not what is measured.
    let mut out = std::io::BufWriter::new(std::io::sink());
    for _ in 0..rounds {
        for (_, bytes) in &docs {
            let origin = Origin {
                source_id: "bench",
                url: Some("https://example.com/feed"),
                content_type: None,
            };
            match normalize::parse(bytes, Format::Auto, &origin) {
                Ok(p) => {
                    items += p.items.len();
                    for item in &p.items {
                        serde_json::to_writer(&mut out, item).expect("items serialize");
                        out.write_all(b"\n").expect("a sink takes everything");
                    }
                }
                Err(_) => failures += 1,
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let mb = (bytes_per_round * rounds) as f64 / 1e6;
    println!(
        "parse + JSON lines: {} documents × {rounds} rounds = {mb:.1} MB in {secs:.2} s → {:.1} MB/s, {:.0} items/s ({} documents failed per round, as expected for the broken ones)",
        docs.len(),
        mb / secs,
        items as f64 / secs,
        failures / rounds
    );
}
