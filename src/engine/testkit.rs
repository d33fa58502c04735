//! What the engine's unit tests share: a seeded generator and the damaged
//! copies of a line that the parser tests feed through every reader.

/// xorshift64: small, seeded, the same sequence on every machine.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for test case `seed`, spread so that neighbouring seeds
    /// start far apart (the state must not be zero).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// 1 to `max` bytes of `alphabet`.
    pub fn word(&mut self, alphabet: &[u8], max: u64) -> String {
        (0..1 + self.below(max)).map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char).collect()
    }
}

/// Every prefix of `line`, then `line` with each byte in turn replaced by
/// each of `replacements`.
pub fn variants(line: &[u8], replacements: &[u8]) -> Vec<Vec<u8>> {
    let mut variants: Vec<Vec<u8>> = (0..=line.len()).map(|n| line[..n].to_vec()).collect();
    for i in 0..line.len() {
        for &r in replacements {
            let mut v = line.to_vec();
            v[i] = r;
            variants.push(v);
        }
    }
    variants
}
