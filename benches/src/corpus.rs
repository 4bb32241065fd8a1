//! Corpora of NVM records: written by `nvm-gen` to files (the Kafka
//! benchmarks replay files), and loaded back into one buffer so that a timed
//! pass touches nothing but the engine.

use anyhow::Context as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

pub use nvm_gen::Encoding;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub encoding: Encoding,
    pub records: u64,
    pub seed: u64,
    /// Rclone sessions; the generator's default (one per 500 records, at
    /// most 10) when `None`.
    pub rclone_sessions: Option<usize>,
}

impl Spec {
    /// A file name that says what is inside.
    pub fn file_name(&self) -> String {
        let sessions = self
            .rclone_sessions
            .map_or(String::new(), |n| format!("-rclone{n}"));
        format!(
            "{}-{}-seed{}{sessions}.nvm",
            encoding_name(self.encoding),
            self.records,
            self.seed
        )
    }

    fn config(&self) -> nvm_gen::Config {
        nvm_gen::Config {
            count: self.records,
            seed: self.seed,
            encoding: self.encoding,
            rclone_sessions: self.rclone_sessions,
            ..nvm_gen::Config::default()
        }
    }
}

/// The generator's own name for an encoding.
pub fn encoding_name(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Kv => "kv",
        Encoding::Json => "json",
        Encoding::Mixed => "mixed",
    }
}

/// Writes the corpus to `dir` and returns its path. Generation is fast
/// (about a second per 250,000 records), so a run always writes afresh
/// rather than trusting a file an older generator left behind.
///
/// # Errors
/// Invalid settings or a file that cannot be written.
pub fn generate(dir: &Path, spec: &Spec) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(spec.file_name());
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    nvm_gen::write_all(&spec.config(), &mut out)
        .with_context(|| format!("generating {}", path.display()))?;
    out.flush()?;
    Ok(path)
}

/// Generates a corpus in memory, for micro-benchmarks and tests.
///
/// # Errors
/// Invalid settings.
pub fn in_memory(spec: &Spec) -> anyhow::Result<Corpus> {
    let mut data = Vec::with_capacity(spec.records as usize * 1200);
    nvm_gen::write_all(&spec.config(), &mut data).context("generating a corpus")?;
    Ok(Corpus::from_bytes(data))
}

/// Lines held in one buffer.
pub struct Corpus {
    data: Vec<u8>,
    /// Start and end of each non-blank line.
    lines: Vec<(usize, usize)>,
}

impl Corpus {
    /// Reads a file of newline-separated records.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn load(path: &Path) -> anyhow::Result<Corpus> {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Corpus::from_bytes(data))
    }

    /// Splits a buffer into lines, skipping blank ones.
    pub fn from_bytes(data: Vec<u8>) -> Corpus {
        let mut lines = Vec::with_capacity(data.len() / 900 + 1);
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &data) {
            push_line(&data, &mut lines, start, end);
            start = end + 1;
        }
        push_line(&data, &mut lines, start, data.len());
        Corpus { data, lines }
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of all lines, newlines excluded.
    pub fn bytes(&self) -> u64 {
        self.lines.iter().map(|(s, e)| (e - s) as u64).sum()
    }

    /// Line `i`.
    pub fn line(&self, i: usize) -> &[u8] {
        let (s, e) = self.lines[i];
        &self.data[s..e]
    }

    /// Every line, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.lines.iter().map(|&(s, e)| &self.data[s..e])
    }
}

fn push_line(data: &[u8], lines: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    let line = &data[start..end];
    if !line.iter().all(u8::is_ascii_whitespace) {
        lines.push((start, end));
    }
}

/// Counts the non-blank lines of a file without keeping them.
///
/// # Errors
/// A file that cannot be read.
pub fn count_lines(path: &Path) -> anyhow::Result<u64> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut count = 0;
    for line in std::io::BufReader::with_capacity(1 << 20, file).split(b'\n') {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if !line.iter().all(u8::is_ascii_whitespace) {
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_skips_blank_ones() {
        let corpus = Corpus::from_bytes(b"a=1\n\n  \nb=2\nc=3".to_vec());
        let lines: Vec<&[u8]> = corpus.iter().collect();
        assert_eq!(lines, vec![&b"a=1"[..], b"b=2", b"c=3"]);
        assert_eq!(corpus.bytes(), 9);
    }

    #[test]
    fn generated_corpora_have_the_asked_record_count() {
        let dir = std::env::temp_dir().join(format!("nvm-benches-test-{}", std::process::id()));
        let spec = Spec {
            encoding: Encoding::Json,
            records: 50,
            seed: 7,
            rclone_sessions: None,
        };
        let path = generate(&dir, &spec).unwrap();
        let corpus = Corpus::load(&path).unwrap();
        assert_eq!(corpus.len(), 50);
        assert!(corpus.iter().all(|l| l.starts_with(b"{")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
