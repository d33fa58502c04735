//! Hits per key (a section, a client address) within one report, and over
//! a whole run ([`RunCounts`]), in bounded memory.
//!
//! Up to [`TRACKED`] keys are counted exactly. Past that, the table keeps
//! the heavy hitters with the Space-Saving algorithm (Metwally et al., 2005):
//! a new key takes the place of the least counted one and inherits its
//! count, so any key with more than `hits / TRACKED` hits is still listed
//! and no count is ever too low. Reports then say their counts are upper
//! bounds. Keys are at most [`MAX_SECTION_LEN`] bytes: longer ones are cut.

use super::section::MAX_SECTION_LEN;

/// Keys (sections, or client addresses) a table counts exactly at most,
/// before it starts evicting.
pub const TRACKED: usize = 1024;

/// Entries of a run's table ([`RunCounts`]): twice what it keeps.
const RUN_CAPACITY: usize = 2 * TRACKED;

/// Slots of a run's table: twice its entries, as it is at most half full
/// (and mostly about a third). Four times would end a merge's probe after
/// 1.4 slots rather than 2.6, but the extra probes mostly read the same
/// cache line, and 32 KiB of slots rather than 16 missed the first-level
/// cache more (measured: 0.9 M fewer instructions, 45 K more D1 misses on a
/// 224 K-line log of ~700 clients a report).
const RUN_SLOTS: usize = 2 * RUN_CAPACITY;

/// A slot holds an entry's index (12 bits) and its key's tag: its length
/// (8 bits) and 12 bits of its hash (see [`stamp`]), so that one compare
/// passes other keys without reading their entries, and finds the one whose
/// length and hash bits are those sought: its bytes are then compared
/// knowing their length (see [`Shape::held_by`]). No entry has index
/// `0xfff`, so no full slot is `EMPTY`.
const EMPTY: u32 = u32::MAX;
const INDEX_BITS: u32 = 12;
const LEN_BITS: u32 = 8;
const INDEX: u32 = (1 << INDEX_BITS) - 1;
// No tag is `EMPTY`'s: its length bits would be 255.
const _: () = assert!(RUN_CAPACITY < INDEX as usize && MAX_SECTION_LEN < (1 << LEN_BITS) - 1);
// The home slot reads only the stamp's low 12 bits, below its length field.
const _: () = assert!(RUN_SLOTS <= 1 << INDEX_BITS && tracking_slots(TRACKED) <= 1 << INDEX_BITS);

/// The bits of a stamp that hold its key's length.
const LEN_FIELD: u64 = ((1 << LEN_BITS) - 1) << INDEX_BITS;

/// A key's stamp: its hash (see [`Shape::hash`]), with bits 12 to 19
/// holding its length instead, which neither the home slot (the low bits, at
/// most 12: 4,096 slots) nor the tag's hash bits (20 to 31) read. An entry
/// keeps its key's stamp: its home, its tag and its length in one word.
#[inline(always)]
fn stamp(hash: u64, len: usize) -> u64 {
    hash & !LEN_FIELD | (len as u64) << INDEX_BITS
}

/// The length of the key stamped `stamp`.
#[inline(always)]
fn len_of(stamp: u64) -> usize {
    ((stamp & LEN_FIELD) >> INDEX_BITS) as usize
}

/// The slot of entry `index`, whose key is stamped `stamp`.
#[inline(always)]
fn slot_of(stamp: u64, index: usize) -> u32 {
    tag(stamp) | index as u32
}

/// The part of a slot that a key decides: its length, and bits 20 to 31 of
/// its hash, as its stamp holds them. Not those of its home slot, which
/// would tell apart few of the keys that meet there.
#[inline(always)]
fn tag(stamp: u64) -> u32 {
    stamp as u32 & !INDEX
}

/// The entry index that slot `s` holds.
#[inline(always)]
fn index_of(s: u32) -> usize {
    (s & INDEX) as usize
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyHits {
    pub key: Vec<u8>,
    pub hits: u64,
}

#[derive(Debug)]
pub struct TopCounts {
    /// Open addressing with linear probing; each slot holds an entry's
    /// index, its key's length and part of its hash (see [`EMPTY`]). Four
    /// times as many slots as entries keeps probes short (1.2 slots read
    /// for a key counted, 1.4 for a new one, 16 KiB for a report's table);
    /// a power of two makes the slot of a hash a mask (see
    /// [`mask`](Self::mask)).
    slots: Box<[u32]>,
    /// The entries, in three columns, the first `len` of each in use: each
    /// one's [`Row`] (its count and its key's words), stamp and key. The
    /// scans a report and the run's totals make (the least count, the
    /// leaders) read only the rows, 24 bytes an entry rather than 160, so a
    /// full table's counts stay in the first-level cache; a lookup of a key
    /// of up to 16 bytes reads only its row. Each column is made `capacity`
    /// long and kept when the table is cleared: a new entry is then a few
    /// stores, its row and stamp, and the bytes of a key longer than 16
    /// (see [`Shape::keep`]), not a whole zeroed key first.
    rows: Box<[Row]>,
    /// Each key's [`stamp`]: where its probe starts, its tag and its length.
    stamps: Box<[u64]>,
    keys: Box<[Key]>,
    len: usize,
    capacity: usize,
    evicted: bool,
    /// Entries that had the least count, `least_hits`, when last looked
    /// for: counts only grow, so one still at it is still a least one. A
    /// flood of new sections takes them one by one, and the table is
    /// scanned again only when they run out.
    least: Vec<u16>,
    least_hits: u64,
}

/// A key's bytes, aligned to a cache line: a key of up to 64 bytes is read
/// and written in one line. Only a key longer than 16 bytes is written
/// here: a shorter one's row spells it (see [`Shape::keep`]).
#[derive(Clone, Debug)]
#[repr(align(64))]
struct Key([u8; MAX_SECTION_LEN]);

impl Key {
    /// The key an entry holds here, `len` (as its stamp says, more than
    /// 16) bytes long: the one place that says so.
    #[inline(always)]
    fn first(&self, len: usize) -> &[u8] {
        &self.0[..len]
    }
}

/// The slots of [`TopCounts::tracking`]'s table of `capacity` entries.
const fn tracking_slots(capacity: usize) -> usize {
    (capacity * 4).next_power_of_two()
}

impl Default for TopCounts {
    fn default() -> Self {
        TopCounts::tracking(TRACKED)
    }
}

impl TopCounts {
    /// A table that counts up to `capacity` (1 to [`TRACKED`]) sections
    /// exactly, in four times as many slots.
    pub fn tracking(capacity: usize) -> TopCounts {
        let capacity = capacity.clamp(1, TRACKED);
        TopCounts::with_slots(capacity, tracking_slots(capacity))
    }

    /// A table of `capacity` entries in `slots` slots, a power of two.
    fn with_slots(capacity: usize, slots: usize) -> TopCounts {
        TopCounts {
            slots: vec![EMPTY; slots].into_boxed_slice(),
            rows: vec![Row::default(); capacity].into_boxed_slice(),
            stamps: vec![0; capacity].into_boxed_slice(),
            keys: vec![Key([0; MAX_SECTION_LEN]); capacity].into_boxed_slice(),
            len: 0,
            capacity,
            evicted: false,
            least: Vec::new(),
            least_hits: 0,
        }
    }

    /// What a hash or a slot number is masked with to stay in the slots.
    #[inline(always)]
    fn mask(&self) -> usize {
        mask(&self.slots)
    }

    /// The key of entry `index`: up to 16 bytes spelled from its row's
    /// words, which alone hold it (see [`Shape::keep`]); longer, its bytes.
    #[inline(always)]
    fn key(&self, index: usize) -> Spelled<'_> {
        let len = len_of(self.stamps[index]);
        if len <= PAIR_MAX {
            Spelled::Words(spell(&self.rows[index], len), len)
        } else {
            Spelled::Kept(self.keys[index].first(len))
        }
    }

    /// Counts one hit of `key`, cut to [`MAX_SECTION_LEN`] bytes (as are
    /// the keys of every way to count one).
    #[inline]
    pub fn add(&mut self, key: &[u8]) {
        self.add_n(key, 1);
    }

    /// Counts one hit of a sample that stands for `n` hits. In line: on a
    /// log of ever-new clients (big50), a report's sample is taken on
    /// about one line in 18, and the call's six register saves and
    /// restores cost more than the lookup itself makes the loop over a
    /// batch's lines spill (measured: combined 545.9 -> 543.7 instructions
    /// a line).
    #[inline(always)]
    pub fn add_sample(&mut self, key: &[u8], n: u64) {
        self.evicted = true;
        self.add_n(key, n);
    }

    /// Counts one hit of a key already counted, or of a new one while an
    /// entry is free, and says so. A new key that finds the table full is
    /// not counted, and the counts are approximate from then on: the caller
    /// counts it some other way.
    #[inline(always)]
    pub fn add_if_room(&mut self, key: &[u8]) -> bool {
        with_shape!(key, |shape, _key| {
            let stamp = shape.stamp();
            match self.find(&shape, stamp) {
                Ok(index) => self.rows[index].hits += 1,
                Err(slot) => {
                    if !self.push(&shape, stamp, 1, slot) {
                        self.evicted = true;
                        return false;
                    }
                }
            }
        });
        true
    }

    /// Counts `n` hits of one key. Kept small enough to inline: a key
    /// already counted, the usual case, costs a hash, a probe or two and a
    /// compare, each made of the word loads of its length class, found once.
    #[inline(always)]
    fn add_n(&mut self, key: &[u8], n: u64) {
        with_shape!(key, |shape, key| {
            let stamp = shape.stamp();
            match self.find(&shape, stamp) {
                Ok(index) => self.rows[index].hits += n,
                Err(slot) => self.insert(key, stamp, n, slot),
            }
        })
    }

    /// The entry of the key of `shape`, stamped `stamp`, or the empty slot
    /// where its probe ended.
    #[inline(always)]
    fn find(&self, shape: &impl Shape, stamp: u64) -> Result<usize, usize> {
        // The keys read through `self` within the loop: a lookup inlined
        // into the loop over a batch's lines then holds one register fewer
        // than with the column as a slice of its own (measured: 8
        // instructions a line fewer there).
        probe!(&*self.slots, |index| &self.rows[index], &self.keys[index], shape, stamp)
    }

    /// A key not in the table, whose probe ended at the empty `slot`: a new
    /// entry, or Space-Saving's replacement once the table is full.
    #[inline(never)]
    fn insert(&mut self, key: &[u8], stamp: u64, n: u64, slot: usize) {
        if !with_shape!(key, |shape, _key| self.push(&shape, stamp, n, slot)) {
            self.replace_least(key, stamp, n);
        }
    }

    /// A new entry for the key of `shape`, stamped `stamp`, not in the
    /// table, whose probe ended at the empty `slot`, if there is room; says
    /// whether there was. The room is the columns' own length, so that
    /// finding it finds each column's entry in bounds.
    #[inline(always)]
    fn push(&mut self, shape: &impl Shape, stamp: u64, n: u64, slot: usize) -> bool {
        let index = self.len;
        let (Some(row), Some(stored), Some(key)) =
            (self.rows.get_mut(index), self.stamps.get_mut(index), self.keys.get_mut(index))
        else {
            return false;
        };
        self.slots[slot] = slot_of(stamp, index);
        *stored = stamp;
        shape.keep(key);
        *row = shape.row(n);
        self.len = index + 1;
        true
    }

    /// Space-Saving's step: the least counted section makes way.
    fn replace_least(&mut self, key: &[u8], stamp: u64, n: u64) {
        let least = loop {
            match self.least.pop() {
                Some(i) if self.rows[usize::from(i)].hits == self.least_hits => break usize::from(i),
                Some(_) => {}
                None => self.find_least(),
            }
        };
        self.unlink(least);
        // Overwritten in place: only the key's first `len` bytes are read.
        self.stamps[least] = stamp;
        let hits = self.rows[least].hits + n;
        self.rows[least] = copy_key(&mut self.keys[least], key, hits);
        let mask = self.mask();
        let mut slot = stamp as usize & mask;
        while self.slots[slot] != EMPTY {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = slot_of(stamp, least);
        self.evicted = true;
    }

    /// Lists the entries with the least count, in the order of the table,
    /// in one pass over it.
    fn find_least(&mut self) {
        let mut least_hits = u64::MAX;
        for (i, &Row { hits, .. }) in self.rows[..self.len].iter().enumerate() {
            if hits < least_hits {
                least_hits = hits;
                self.least.clear();
            }
            if hits == least_hits {
                self.least.push(i as u16);
            }
        }
        self.least_hits = least_hits;
    }

    /// The slot that holds entry `index`.
    fn slot_of_entry(&self, index: usize) -> usize {
        let mask = self.mask();
        let mut slot = self.stamps[index] as usize & mask;
        while index_of(self.slots[slot]) != index {
            slot = (slot + 1) & mask;
        }
        slot
    }

    /// Takes entry `index` out of the probe sequence, shifting later entries
    /// back so that lookups never need tombstones.
    fn unlink(&mut self, index: usize) {
        let mask = self.mask();
        let mut hole = self.slot_of_entry(index);
        let mut next = (hole + 1) & mask;
        while self.slots[next] != EMPTY {
            let home = self.stamps[index_of(self.slots[next])] as usize & mask;
            // The entry at `next` may fill the hole unless its home lies
            // cyclically after the hole, up to `next` itself.
            let distance_home = next.wrapping_sub(home) & mask;
            let distance_hole = next.wrapping_sub(hole) & mask;
            if distance_home >= distance_hole {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = EMPTY;
    }

    /// The `n` sections with most hits, most first; ties in byte order.
    pub fn top(&self, n: usize) -> Vec<KeyHits> {
        self.leaders(n)
            .into_iter()
            .map(|i| KeyHits { key: self.key(i).bytes().to_vec(), hits: self.rows[i].hits })
            .collect()
    }

    /// The `n` entries with most hits, most first; ties in byte order.
    /// Reports are made often and list a few ([`FEW`] at most): those are
    /// picked in one pass over the counts, which passes most entries over
    /// with a compare. For longer lists, the count the `n`th has is found
    /// among the counts alone, and only the entries with at least that many
    /// are ordered, which compares few keys.
    fn leaders(&self, n: usize) -> Vec<usize> {
        let rows = &self.rows[..self.len];
        if n <= FEW {
            return leading(rows, n, |a, b| self.key(a).bytes() < self.key(b).bytes());
        }
        let most = |&a: &usize, &b: &usize| {
            rows[b].hits.cmp(&rows[a].hits).then_with(|| self.key(a).bytes().cmp(self.key(b).bytes()))
        };
        let mut order: Vec<usize> = if n >= self.len {
            (0..self.len).collect()
        } else {
            let mut counts: Vec<u64> = rows.iter().map(|r| r.hits).collect();
            let (_, &mut least, _) = counts.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
            (0..self.len).filter(|&i| rows[i].hits >= least).collect()
        };
        if n < order.len() {
            order.select_nth_unstable_by(n, most);
            order.truncate(n);
        }
        order.sort_unstable_by(most);
        order
    }

    /// Sections seen, exactly when nothing was evicted.
    pub fn distinct(&self) -> usize {
        self.len
    }

    /// Whether the counts are upper bounds rather than exact.
    pub fn approximate(&self) -> bool {
        self.evicted
    }

    /// Adds the entries of `other` from `from` on, each with its stored
    /// stamp, as long as a new key finds room; returns where it stopped
    /// (`other.len` once all are added), for the run's table to make room
    /// (see [`RunCounts::merge`]). A loop of its own, with no reduction in
    /// it, keeps the table's columns at hand: 1 M fewer instructions over
    /// the bench log's 226 reports than adding key by key, reducing within.
    fn add_while_room(&mut self, other: &TopCounts, from: usize) -> usize {
        let all = other.len;
        let (their_rows, their_stamps) = (&other.rows[..all], &other.stamps[..all]);
        // The columns as local slices and the length as a local: the loop
        // keeps them in registers, rather than reading them through `self`
        // again after each store.
        let capacity = self.capacity;
        let slots = &mut *self.slots;
        // Never true (a table has slots): kept as a hint, not dead code.
        // The probes index `slots` with a slot masked by its length less
        // one, in bounds only if it has slots; seen here once, the bounds
        // check of that index leaves each entry's probe (with the count
        // read where it is added, about 4 instructions an entry fewer:
        // benchmid 769.5 -> 766.6 instructions a line, 1c4cfc6).
        if slots.is_empty() {
            return from;
        }
        let (rows, stamps) = (&mut self.rows[..capacity], &mut self.stamps[..capacity]);
        let keys = &mut self.keys[..capacity];
        let mut len = self.len;
        let mut stop = all;
        for i in from..all {
            // The count is read only where it is added: held across the
            // probe, it would take a register the loop spills for.
            let stamp = their_stamps[i];
            let added = with_stored_shape!(&their_rows[i], &other.keys[i], len_of(stamp), |shape| match probe!(
                slots,
                |index| &rows[index],
                &keys[index],
                shape,
                stamp
            ) {
                Ok(index) => {
                    rows[index].hits += their_rows[i].hits;
                    true
                }
                Err(slot) if len < capacity => {
                    slots[slot] = slot_of(stamp, len);
                    stamps[len] = stamp;
                    shape.keep(&mut keys[len]);
                    rows[len] = their_rows[i];
                    len += 1;
                    true
                }
                Err(_) => false,
            });
            if !added {
                stop = i;
                break;
            }
        }
        self.len = len;
        stop
    }

    /// Empties the table, keeping its memory for the next report. A table
    /// of few entries (an eighth of its slots or fewer, as most sections
    /// tables) empties only the slots in use: from each entry's home, its
    /// run of full slots up to the first empty one. An entry lies in the run
    /// that starts at its home (linear probing, and
    /// [`unlink`](Self::unlink)'s shifts, keep every slot from its home to
    /// its own full), and what the walks before emptied of a run is always
    /// its tail, which a walk stops at: every full slot is emptied once, for
    /// a read of each entry's stamp, about 10 instructions an entry. Past an
    /// eighth, [`empty_slots`]' pass over them all (about 1,150
    /// instructions for 4,096 slots) costs less than the walks (7,500 for a
    /// report's table of 700 clients). By those figures the two cost alike
    /// near a thirty-second (115 entries of 4,096), not an eighth, which
    /// was the crossover with the slower pass before it; but a thirty-second
    /// measured the same (benchmid 738.7, combined 608.7 instructions a
    /// line either way), so the eighth is kept.
    pub fn clear(&mut self) {
        let slots = &mut *self.slots;
        if self.len > slots.len() / 8 {
            empty_slots(slots);
        } else {
            let mask = mask(slots);
            for &stamp in &self.stamps[..self.len] {
                let mut slot = stamp as usize & mask;
                while slots[slot] != EMPTY {
                    slots[slot] = EMPTY;
                    slot = (slot + 1) & mask;
                }
            }
        }
        self.len = 0;
        self.least.clear();
        self.evicted = false;
    }
}

/// Hits per key over a whole run: the sums of the reports' tables, in
/// bounded memory.
///
/// Up to [`RUN_CAPACITY`] keys are summed exactly. A key that finds the
/// table full first makes room the Misra-Gries way (Misra and Gries, 1982;
/// weighted and batched as in Agarwal et al., "Mergeable summaries", 2012):
/// with `c` the count of the ([`TRACKED`] + 1)th most counted entry, every
/// count drops by `c` (or to nothing) and the entries left with none go,
/// which frees at least half the table. Each reduction takes `c` from each
/// of the `TRACKED + 1` most counted entries, so the sum of the `c`s,
/// [`taken`](Self::taken), is at most `N / (TRACKED + 1)` of the `N` hits
/// merged; a key's sum is at most that much over what the table holds for
/// it, and a key with more than that many hits is still in it. Counts are
/// given with `taken` added back: upper bounds, over by at most that, as
/// Space-Saving's are, while a merge costs a lookup and an append, and a
/// reduction (at most one per [`TRACKED`] new keys) a pass that counts
/// the small counts by value (see [`kept_above`]) and a pass over the
/// table.
///
/// Memory, fixed: [`RUN_CAPACITY`] entries of 160 bytes (a 128-byte key,
/// its stamp, and its row: 320 KiB), 16 KiB of slots, and, from the
/// first reduction that selects among large counts, a 16 KiB copy of the
/// counts (`scratch`).
#[derive(Debug)]
pub struct RunCounts {
    table: TopCounts,
    /// What every reduction took from each entry, summed.
    taken: u64,
    /// A merged table was approximate, or a reduction took something.
    approximate: bool,
    /// The counts while a reduction selects among them, at most
    /// [`RUN_CAPACITY`] (16 KiB): kept to allocate nothing after the first.
    scratch: Vec<u64>,
}

impl Default for RunCounts {
    fn default() -> Self {
        RunCounts {
            table: TopCounts::with_slots(RUN_CAPACITY, RUN_SLOTS),
            taken: 0,
            approximate: false,
            scratch: Vec::new(),
        }
    }
}

impl RunCounts {
    /// Adds every entry of a report's table, with the stamp it keeps: as
    /// many as fit, then, when a new key finds the table full, a reduction
    /// makes room, and on.
    pub fn merge(&mut self, other: &TopCounts) {
        let mut from = 0;
        while from < other.len {
            from = self.table.add_while_room(other, from);
            if from < other.len {
                self.reduce();
            }
        }
        self.approximate |= other.evicted;
    }

    /// Misra-Gries's step: takes the ([`TRACKED`] + 1)th largest count from
    /// every entry, drops those left with none, and makes the slots again
    /// for the entries kept, moved to the front of the columns.
    #[inline(never)]
    fn reduce(&mut self) {
        let table = &mut self.table;
        let len = table.len;
        let cut = kept_above(&table.rows[..len], &mut self.scratch);
        // The columns as slices of the entries: indices below `len` are
        // then checked no more.
        let (rows, stamps, keys) = (&mut table.rows[..len], &mut table.stamps[..len], &mut table.keys[..len]);
        let slots = &mut *table.slots;
        empty_slots(slots);
        let mask = mask(slots);
        // One pass: each entry kept moves to the front of the columns (a
        // key's bytes only if longer than 16, see `Shape::keep`), and takes
        // its slot at once.
        let mut kept = 0;
        for i in 0..len {
            let (stamp, row) = (stamps[i], rows[i]);
            let n = row.hits;
            if n > cut {
                rows[kept] = Row { hits: n - cut, ..row };
                stamps[kept] = stamp;
                if kept != i {
                    let (to, from) = keys.split_at_mut(i);
                    with_stored_shape!(&row, &from[0], len_of(stamp), |shape| shape.keep(&mut to[kept]));
                }
                let mut slot = stamp as usize & mask;
                while slots[slot] != EMPTY {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = slot_of(stamp, kept);
                kept += 1;
            }
        }
        table.len = kept;
        self.taken += cut;
        self.approximate = true;
    }

    /// The `n` keys with most hits, most first; ties in byte order. Each
    /// count is an upper bound, over by at most [`taken`](Self::taken).
    pub fn top(&self, n: usize) -> Vec<KeyHits> {
        let mut top = self.table.top(n);
        for k in &mut top {
            k.hits += self.taken;
        }
        top
    }

    /// Whether the counts are upper bounds rather than exact.
    pub fn approximate(&self) -> bool {
        self.approximate
    }

    /// How much any count may be over its key's sum: at most the hits
    /// merged / ([`TRACKED`] + 1).
    #[cfg(test)]
    fn taken(&self) -> u64 {
        self.taken
    }
}

/// The ([`TRACKED`] + 1)th largest of `counts` (more than that many):
/// most of a run's counts are small, so they are first counted by value up
/// to [`SMALL_COUNT`], in one pass; a selection among them all, in
/// `scratch`, is needed only when [`TRACKED`] + 1 of them are larger.
fn kept_above<C: Count>(counts: &[C], scratch: &mut Vec<u64>) -> u64 {
    let mut by_value = [0usize; SMALL_COUNT];
    for n in counts.iter().map(|c| c.count()) {
        by_value[n.min(SMALL_COUNT as u64 - 1) as usize] += 1;
    }
    let mut at_least = 0;
    for (value, &n) in by_value.iter().enumerate().rev() {
        at_least += n;
        if at_least > TRACKED {
            if value < SMALL_COUNT - 1 {
                return value as u64;
            }
            break;
        }
    }
    scratch.clear();
    scratch.extend(counts.iter().map(|c| c.count()));
    let (_, &mut cut, _) = scratch.select_nth_unstable_by(TRACKED, |a, b| b.cmp(a));
    cut
}

/// Counts below this are counted by value when a run's table is reduced.
const SMALL_COUNT: usize = 64;

/// Lists this long at most are made by [`leading`], in one pass.
pub const FEW: usize = 32;

/// The indices of the `n` largest of `counts` (`n` at most [`FEW`]), most
/// first, ties in the order `first` says (a strict order on indices); zero
/// counts are never listed. One pass: counts are read a group of
/// [`GROUP`] at a time, and a group whose or is below the floor (what a
/// count must reach to be listed: 1, then, once `n` are, the `n`th's) is
/// passed over whole, as none of its counts can reach it: most of a
/// report's status codes are zero, and most of its clients' counts tie at
/// the few lowest. In a group that may, a count below the floor is passed
/// over with a compare, one equal to it with one tie test against the
/// `n`th, and a new one is placed among the few kept by a binary search.
pub fn leading<C: Count>(counts: &[C], n: usize, first: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    debug_assert!(n <= FEW);
    let mut list = Leading { order: Vec::with_capacity(n + 1), floor: 1, n };
    let groups = counts.chunks_exact(GROUP);
    let (rest, from) = (groups.remainder(), counts.len() - groups.remainder().len());
    for (g, group) in groups.enumerate() {
        // The or of counts is at least the largest of them.
        if group.iter().fold(0, |any, &count| any | count.count()) >= list.floor {
            for (j, &count) in group.iter().enumerate() {
                list.offer(counts, g * GROUP + j, count.count(), &first);
            }
        }
    }
    for (j, &count) in rest.iter().enumerate() {
        list.offer(counts, from + j, count.count(), &first);
    }
    list.order
}

/// What [`leading`] lists by: a count, or an entry's row.
pub trait Count: Copy {
    fn count(self) -> u64;
}

impl Count for u64 {
    #[inline(always)]
    fn count(self) -> u64 {
        self
    }
}

/// An entry's count, and beside it its key's words as a lookup compares
/// them: a [`Short`] key's word (`first`), or a [`Pair`]'s two; a [`Long`]
/// key's first 8 bytes. A key of up to 16 bytes (most sections, any
/// client address) is then found and counted in its row, one bounds check
/// and one cache line, its bytes unread: combined 558.8 -> 555.1
/// instructions a line, benchmid 691.8 -> 691.7, against the count alone
/// in a column of its own (the scans then read 24 bytes an entry, not 8).
#[derive(Clone, Copy, Debug, Default)]
struct Row {
    hits: u64,
    first: u64,
    last: u64,
}

impl Count for Row {
    #[inline(always)]
    fn count(self) -> u64 {
        self.hits
    }
}

/// Counts [`leading`] reads as a group: 8, a cache line of them (three of
/// a table's rows).
const GROUP: usize = 8;

/// A list [`leading`] makes: the indices kept so far, most first, and
/// what a count must reach to be listed.
struct Leading {
    order: Vec<usize>,
    /// 1, then, once `n` are listed, the `n`th's count.
    floor: u64,
    n: usize,
}

impl Leading {
    /// Lists `count`, that of index `i` of `counts`, where it goes among
    /// the `n` largest.
    #[inline(always)]
    fn offer<C: Count>(&mut self, counts: &[C], i: usize, count: u64, first: &impl Fn(usize, usize) -> bool) {
        let (order, n) = (&mut self.order, self.n);
        if count < self.floor {
            return;
        }
        // A count equal to the `n`th's comes after it, as the search below
        // would find, unless it goes first.
        if count == self.floor
            && order.len() == n
            && let Some(&last) = order.last()
            && first(last, i)
        {
            return;
        }
        let at = order.partition_point(|&j| counts[j].count() > count || (counts[j].count() == count && first(j, i)));
        if at < n {
            order.insert(at, i);
            order.truncate(n);
            if order.len() == n {
                self.floor = counts[order[n - 1]].count();
            }
        }
    }
}

/// A key as a lookup reads it: through the (possibly overlapping) word
/// loads of its length class, made once for both its hash and its compare
/// with the entries it meets. Assembling a word byte by byte through memory
/// would stall the load that follows, and for keys this short a call to
/// memcmp costs more than the compare.
trait Shape {
    /// The key's hash: a multiply-mix of its words, its bytes swapped so
    /// that the product's best-mixed high bits make the home slot (the low
    /// bits) and its middle ones the tag (bits 20 to 31; see [`tag`]). The
    /// same key hashes the same whatever the table; which hash it is only
    /// decides probe lengths, which the table size bounds, never a count.
    fn hash(&self) -> u64;

    /// The key's length.
    fn len(&self) -> usize;

    /// The key's [`stamp`]: its hash and its length.
    #[inline(always)]
    fn stamp(&self) -> u64 {
        stamp(self.hash(), self.len())
    }

    /// Whether the entry of `row`, whose key is as long as this one (its
    /// slot says so), holds this key: told by the row's words alone up to
    /// 16 bytes; a longer key's bytes, `stored`, are read only when its
    /// first word matches.
    fn held_by<'k>(&self, row: &Row, stored: impl FnOnce() -> &'k Key) -> bool;

    /// The row of an entry of this key, counted `hits` (see [`Row`]).
    fn row(&self, hits: u64) -> Row;

    /// Writes to `to`, an entry's key bytes, what its row does not hold:
    /// nothing up to 16 bytes, as the row's words spell the key (see
    /// [`spell`]), so that a new entry, a merged one and one a reduction
    /// moves write only their row (on benchmid, where most clients of a
    /// report are new, 4.9 instructions a line fewer); a longer key's bytes,
    /// through word stores (a call to memcpy costs more than the copy),
    /// which may overwrite bytes past its end.
    fn keep(&self, to: &mut Key);
}

/// Evaluates `$body` with `$shape` bound to the [`Shape`] of `$key`, and
/// `$cut` to the key as a table keeps it: cut to [`MAX_SECTION_LEN`]
/// bytes. The one dispatch on its length that both its hash and its
/// compares then follow (and where a key is cut, in the branch of the
/// longest). Most sections are up to 8 bytes, most client addresses up to 16.
macro_rules! with_shape {
    ($key:expr, |$shape:ident, $cut:ident| $body:expr) => {{
        let key: &[u8] = $key;
        if key.len() <= SHORT_MAX {
            let ($shape, $cut) = (Short::of(key), key);
            $body
        } else if key.len() <= PAIR_MAX {
            let ($shape, $cut) = (Pair::of(key), key);
            $body
        } else {
            let $cut = &key[..key.len().min(MAX_SECTION_LEN)];
            let $shape = Long($cut);
            $body
        }
    }};
}
use with_shape;

/// [`with_shape!`] for the key an entry holds, `$len` bytes long: up to
/// 16 bytes, its shape is its [`Row`]'s words, `$row` (the words a lookup
/// compares, see [`Shape::row`]), and its bytes, `$stored` (a [`Key`]), are
/// not read, nor even evaluated; a longer key is read from them. The run's
/// table merges a report's entries so: a report's keys are not read at all
/// (1.3 instructions a line fewer on benchmid, and a cache line an entry
/// not touched).
macro_rules! with_stored_shape {
    ($row:expr, $stored:expr, $len:expr, |$shape:ident| $body:expr) => {{
        let (row, len): (&Row, usize) = ($row, $len);
        if len <= SHORT_MAX {
            let $shape = Short { word: row.first, len };
            $body
        } else if len <= PAIR_MAX {
            let $shape = Pair { first: row.first, last: row.last, len };
            $body
        } else {
            let stored: &Key = $stored;
            let $shape = Long(stored.first(len));
            $body
        }
    }};
}
use with_stored_shape;

/// The longest key a [`Short`] holds (one word) and a [`Pair`] (two): the
/// classes of length that [`with_shape!`] and [`with_stored_shape!`] both
/// decide, so that a merged entry's key takes the shape it was added with.
const SHORT_MAX: usize = 8;
const PAIR_MAX: usize = 16;

const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// One step of the hash: the words so far, turned so that their high bits
/// meet the next word's low ones, then multiplied.
#[inline(always)]
fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(32) ^ v).wrapping_mul(K)
}

/// A key of up to 8 bytes as one word: its first 4 bytes, then its last 4
/// (which overlap unless it is 8 bytes long); shorter than 4, its first,
/// middle and last bytes, which are all of them. Given its length, which
/// the slots compare, the word is the key, made of two loads and a shift.
/// An entry that holds such a key keeps the word in its row (see
/// [`row`](Shape::row)), so that one compare tells them apart.
struct Short {
    word: u64,
    len: usize,
}

impl Short {
    #[inline(always)]
    fn of(key: &[u8]) -> Short {
        let len = key.len();
        debug_assert!(len <= SHORT_MAX);
        let word = if len >= 4 {
            u64::from(half(key, 0)) | u64::from(half(key, len - 4)) << 32
        } else if len > 0 {
            u64::from(key[0]) | u64::from(key[len / 2]) << 8 | u64::from(key[len - 1]) << 16
        } else {
            0
        };
        Short { word, len }
    }
}

impl Shape for Short {
    #[inline(always)]
    fn hash(&self) -> u64 {
        mix(0, self.word).swap_bytes()
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    /// The row's word is the key: its bytes are not read.
    #[inline(always)]
    fn held_by<'k>(&self, row: &Row, _stored: impl FnOnce() -> &'k Key) -> bool {
        row.first == self.word
    }

    #[inline(always)]
    fn row(&self, hits: u64) -> Row {
        Row { hits, first: self.word, last: 0 }
    }

    /// Nothing: the row's word spells the key.
    #[inline(always)]
    fn keep(&self, _to: &mut Key) {}
}

/// A key of 9 to 16 bytes as its first 8 and its last 8, which overlap
/// unless it is 16 bytes long.
struct Pair {
    first: u64,
    last: u64,
    len: usize,
}

impl Pair {
    #[inline(always)]
    fn of(key: &[u8]) -> Pair {
        let len = key.len();
        debug_assert!((SHORT_MAX + 1..=PAIR_MAX).contains(&len));
        Pair { first: word(key, 0), last: word(key, len - 8), len }
    }
}

impl Shape for Pair {
    #[inline(always)]
    fn hash(&self) -> u64 {
        mix(mix(0, self.first), self.last).swap_bytes()
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    /// Up to 16 bytes, the loads are seen in bounds of the entry's bytes,
    /// and none is checked.
    #[inline(always)]
    fn held_by<'k>(&self, row: &Row, _stored: impl FnOnce() -> &'k Key) -> bool {
        row.first == self.first && row.last == self.last
    }

    #[inline(always)]
    fn row(&self, hits: u64) -> Row {
        Row { hits, first: self.first, last: self.last }
    }

    /// Nothing: the row's two words spell the key.
    #[inline(always)]
    fn keep(&self, _to: &mut Key) {}
}

/// A key of more than 16 bytes, read 8 bytes at a time, the last 8 as
/// such.
struct Long<'k>(&'k [u8]);

impl Shape for Long<'_> {
    #[inline(always)]
    fn hash(&self) -> u64 {
        let (bytes, len) = (self.0, self.0.len());
        // The length goes into the first multiply with the first bytes.
        let mut h = len as u64;
        let mut at = 0;
        while at + 8 < len {
            h = mix(h, word(bytes, at));
            at += 8;
        }
        mix(h, word(bytes, len - 8)).swap_bytes()
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline(always)]
    fn held_by<'k>(&self, row: &Row, stored: impl FnOnce() -> &'k Key) -> bool {
        let (b, len) = (self.0, self.0.len());
        if row.first != word(b, 0) {
            return false;
        }
        let a = &stored().0[..len];
        let mut at = 0;
        while at + 8 < len {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        word(a, len - 8) == word(b, len - 8)
    }

    #[inline(always)]
    fn row(&self, hits: u64) -> Row {
        Row { hits, first: word(self.0, 0), last: 0 }
    }

    #[inline(always)]
    fn keep(&self, to: &mut Key) {
        let (key, len) = (self.0, self.0.len());
        let mut put_word = |at: usize| to.0[at..at + 8].copy_from_slice(&word(key, at).to_le_bytes());
        let mut at = 0;
        while at + 8 < len {
            put_word(at);
            at += 8;
        }
        put_word(len - 8);
    }
}

/// The lookup of a table's key: evaluates to the entry (`Ok`) of the key
/// of `$shape`, stamped `$stamp`, or the empty slot of `$slots` where its
/// probe ended (`Err`); `$row` reads entry `$index`'s row, and `$key` its
/// key, which only a key longer than 16 bytes reads. One loop, which
/// [`TopCounts::find`] reads its keys through the table with, and
/// [`TopCounts::add_while_room`] through a slice of the column that it
/// holds in a register, with the table's other columns, across its loop.
macro_rules! probe {
    ($slots:expr, |$index:ident| $row:expr, $key:expr, $shape:expr, $stamp:expr) => {{
        let (slots, stamp): (&[u32], u64) = ($slots, $stamp);
        let tag = tag(stamp);
        // The mask of this very slice, so that the compiler sees every
        // probe in bounds and checks none.
        let mask = mask(slots);
        let mut slot = stamp as usize & mask;
        loop {
            let s = slots[slot];
            // The tag first: no tag is that of an empty slot (see `EMPTY`),
            // and the slot sought is usually the first. Where the tag is
            // the slot's, what the xor leaves is the entry's index.
            let $index = (s ^ tag) as usize;
            if $index <= INDEX as usize {
                // The slot's 12 bits of hash rarely match another key's of
                // the same length: the bytes are compared at once.
                if $shape.held_by($row, || $key) {
                    break Ok($index);
                }
            } else if s == EMPTY {
                break Err(slot);
            }
            slot = (slot + 1) & mask;
        }
    }};
}
use probe;

/// Empties every slot, a KiB at a time: each part is a memset of its own,
/// below glibc's threshold for `rep stosb` (2 KiB by default), which then
/// stores 32 bytes an instruction: about 1,150 instructions for 4,096
/// slots. One `fill` of them all is one memset of 16 KiB, a `rep stosb`,
/// which callgrind counts an instruction a byte (16,384); a loop that
/// and-ed each group of 16 slots and wrote only those holding an entry
/// made about 4,900 (in time, a microbenchmark found it and the whole
/// `fill` alike: 1.2-2.4 µs and 1.3-2.2 µs for 4,096 slots). The parts'
/// gain over one `fill` is in callgrind's count only: no time was measured
/// for them.
fn empty_slots(slots: &mut [u32]) {
    for part in slots.chunks_mut(256) {
        part.fill(EMPTY);
    }
}

/// The mask of a table of `slots`, a power of two of them: taken from
/// their own length, so that a probe masked with it is seen in bounds.
#[inline(always)]
fn mask(slots: &[u32]) -> usize {
    slots.len().wrapping_sub(1)
}

/// The 8 bytes of `s` from `at`, as one load. The callers keep `at + 8`
/// within `s`, so the conversion cannot fail.
#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

/// The 4 bytes of `s` from `at`, as one load; `at + 4` is within `s`.
#[inline(always)]
fn half(s: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"))
}

/// The row of an entry of `key`, at most [`MAX_SECTION_LEN`] bytes,
/// counted `hits`, with what it keeps of it written to `to` (see
/// [`Shape::keep`]).
#[inline(always)]
fn copy_key(to: &mut Key, key: &[u8], hits: u64) -> Row {
    with_shape!(key, |shape, _key| {
        shape.keep(to);
        shape.row(hits)
    })
}

/// The bytes of a key of up to 16 bytes, `len` long, spelled from the
/// words of its entry's row (see [`Shape::row`]), the first `len` of the
/// array: a [`Short`] key's word, its first and last 4 bytes (3 or fewer:
/// its first, middle and last), or a [`Pair`]'s first and last 8.
fn spell(row: &Row, len: usize) -> [u8; PAIR_MAX] {
    debug_assert!(len <= PAIR_MAX);
    let mut bytes = [0; PAIR_MAX];
    let (first, len) = (row.first, len.min(PAIR_MAX));
    if len > SHORT_MAX {
        bytes[..8].copy_from_slice(&first.to_le_bytes());
        bytes[len - 8..len].copy_from_slice(&row.last.to_le_bytes());
    } else if len >= 4 {
        bytes[..4].copy_from_slice(&(first as u32).to_le_bytes());
        bytes[len - 4..len].copy_from_slice(&((first >> 32) as u32).to_le_bytes());
    } else if len > 0 {
        (bytes[0], bytes[len / 2], bytes[len - 1]) = (first as u8, (first >> 8) as u8, (first >> 16) as u8);
    }
    bytes
}

/// A key read back from its entry (see [`TopCounts::key`]).
enum Spelled<'t> {
    /// Up to 16 bytes, the first `.1` of the array.
    Words([u8; PAIR_MAX], usize),
    /// A longer key, as its entry keeps it.
    Kept(&'t [u8]),
}

impl Spelled<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Spelled::Words(bytes, len) => &bytes[..*len],
            Spelled::Kept(bytes) => bytes,
        }
    }
}

/// Whether the entry of `row` and key bytes `stored` holds `key`, where
/// the entry's key is as long as `key`, as it is read back for a merge.
#[cfg(test)]
fn same_bytes(row: &Row, stored: &Key, key: &[u8]) -> bool {
    let row = with_stored_shape!(row, stored, key.len(), |shape| shape.row(0));
    with_shape!(key, |shape, _key| shape.held_by(&row, || stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testkit::Rng;
    use std::collections::HashMap;

    /// Every pair of keys of one length, one as a table holds it.
    #[test]
    fn keys_compare_whole() {
        let keys: [&[u8]; 12] = [
            b"",
            b"/",
            b"/a",
            b"/ab",
            b"/abc",
            b"/abcdef",
            b"/abcdefg",
            b"/abcdefgh",
            b"/abcdefghi",
            b"10.0.0.1/x/y/z/w",
            b"10.0.0.1/x/y/z/w/v",
            &[0; 8],
        ];
        for a in keys {
            let mut held = Key([b'#'; MAX_SECTION_LEN]);
            let row = copy_key(&mut held, a, 0);
            let same = |b: &[u8]| same_bytes(&row, &held, b);
            for b in keys.iter().filter(|b| b.len() == a.len()) {
                assert_eq!(same(b), a == *b, "{a:?} {b:?}");
            }
            // One byte changed anywhere is seen.
            for i in 0..a.len() {
                let mut c = a.to_vec();
                c[i] ^= 1;
                assert!(!same(&c), "{a:?} at {i}");
            }
        }
    }

    /// A short key's word holds every byte of it, and the row of the
    /// entry that holds it spells it.
    #[test]
    fn short_keys_are_held_as_their_word() {
        let bytes = *b"\x01\x82/abc\xffz";
        for len in 0..=8 {
            let key = &bytes[..len];
            let mut held = Key([b'#'; MAX_SECTION_LEN]);
            let row = copy_key(&mut held, key, 0);
            assert_eq!(spell(&row, len)[..len], *key, "{len}");
            assert!(same_bytes(&row, &held, key), "{len}");
            for i in 0..len {
                let mut other = key.to_vec();
                other[i] ^= 0x80;
                assert_ne!(Short::of(&other).word, Short::of(key).word, "{len} at {i}");
            }
        }
    }

    /// A key longer than a table keeps counts as its first
    /// [`MAX_SECTION_LEN`] bytes, whichever way it is counted.
    #[test]
    fn long_keys_are_cut() {
        let long: Vec<u8> = (0..200).map(|i| b'a' + (i % 26) as u8).collect();
        let mut t = TopCounts::default();
        t.add(&long);
        assert!(t.add_if_room(&long[..150]));
        t.add_sample(&long[..MAX_SECTION_LEN + 1], 16);
        t.add(&long[..MAX_SECTION_LEN]);
        let top = t.top(5);
        assert_eq!(top.len(), 1);
        assert_eq!((&top[0].key[..], top[0].hits), (&long[..MAX_SECTION_LEN], 19));
    }

    /// Up to 16 bytes a key is spelled from its row, its bytes not
    /// written; a longer one's bytes are kept whole.
    #[test]
    fn keys_of_every_length_are_held_whole() {
        let long: Vec<u8> = (0..MAX_SECTION_LEN).map(|i| b'a' + (i % 26) as u8).collect();
        for len in 0..=MAX_SECTION_LEN {
            let mut to = Key([b'#'; MAX_SECTION_LEN]);
            let row = copy_key(&mut to, &long[..len], 0);
            if len <= PAIR_MAX {
                assert_eq!(spell(&row, len)[..len], long[..len], "{len}");
                assert!(to.0.iter().all(|&b| b == b'#'), "{len}");
            } else {
                assert_eq!(to.0[..len], long[..len], "{len}");
            }
        }
    }

    /// Keys whose bytes compare alike as far as the shorter goes: only
    /// their lengths, in their slots, tell them apart.
    #[test]
    fn keys_that_differ_in_trailing_zeros_stay_apart() {
        let mut t = TopCounts::default();
        let keys: [&[u8]; 6] = [b"a", b"a\0", b"a\0\0\0", b"a\0\0\0\0\0\0\0", b"", b"\0"];
        for (i, k) in keys.iter().enumerate() {
            for _ in 0..=i {
                t.add(k);
            }
        }
        let top = t.top(10);
        assert_eq!(top.len(), keys.len());
        for s in top {
            let i = keys.iter().position(|k| *k == s.key).expect("a key added");
            assert_eq!(s.hits as usize, i + 1, "{:?}", s.key);
        }
    }

    fn names(top: &[KeyHits]) -> Vec<(String, u64)> {
        top.iter().map(|s| (String::from_utf8_lossy(&s.key).into_owned(), s.hits)).collect()
    }

    #[test]
    fn counts_and_orders() {
        let mut t = TopCounts::default();
        for s in ["/b", "/a", "/c", "/a", "/b", "/a"] {
            t.add(s.as_bytes());
        }
        assert_eq!(names(&t.top(5)), [("/a".into(), 3), ("/b".into(), 2), ("/c".into(), 1)]);
        assert_eq!(names(&t.top(1)), [("/a".into(), 3)]);
        assert_eq!(t.distinct(), 3);
        assert!(!t.approximate());
    }

    #[test]
    fn ties_are_broken_by_name() {
        let mut t = TopCounts::default();
        for s in ["/z", "/m", "/a"] {
            t.add(s.as_bytes());
        }
        assert_eq!(names(&t.top(3)), [("/a".into(), 1), ("/m".into(), 1), ("/z".into(), 1)]);
    }

    #[test]
    fn keys_of_every_length_stay_apart() {
        let mut t = TopCounts::default();
        let keys: Vec<Vec<u8>> = (0..=40).map(|n| (0..n).map(|i| b'a' + (i % 26) as u8).collect()).collect();
        for (i, k) in keys.iter().enumerate() {
            for _ in 0..=i {
                t.add(k);
            }
        }
        let top = t.top(100);
        assert_eq!(top.len(), keys.len());
        for s in top {
            assert_eq!(s.hits as usize, s.key.len() + 1);
        }
    }

    /// Every list, short (one pass) or long (a selection), is the head of
    /// all the entries sorted, ties included.
    #[test]
    fn leaders_are_the_head_of_the_sorted_entries() {
        for seed in 0..20 {
            let mut rng = Rng::seeded(seed);
            let mut t = TopCounts::default();
            // Few keys and many ties, or many keys seen once or twice.
            let keys = 1 + rng.below([5, 50, 2_000][seed as usize % 3]);
            for _ in 0..rng.below(3_000) {
                t.add(format!("/k{}", rng.below(keys)).as_bytes());
            }
            let mut sorted: Vec<KeyHits> =
                (0..t.len).map(|i| KeyHits { key: t.key(i).bytes().to_vec(), hits: t.rows[i].hits }).collect();
            sorted.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.key.cmp(&b.key)));
            for n in [0, 1, 2, 5, FEW - 1, FEW, FEW + 1, 100, TRACKED] {
                assert_eq!(t.top(n), sorted[..n.min(sorted.len())], "seed {seed}, top {n}");
            }
        }
    }

    #[test]
    fn leading_counts_skip_zeros_and_keep_the_tie_order() {
        let counts = [0, 3, 1, 3, 0, 2, 3];
        assert_eq!(leading(&counts, 4, |a, b| a < b), [1, 3, 6, 5]);
        assert_eq!(leading(&counts, 4, |a, b| a > b), [6, 3, 1, 5]);
        assert_eq!(leading(&counts, FEW, |a, b| a < b), [1, 3, 6, 5, 2]);
        assert!(leading(&counts, 0, |a, b| a < b).is_empty());
        assert!(leading(&[0, 0], 3, |a, b| a < b).is_empty());
    }

    /// Groups passed over whole or read count by count, and the counts
    /// past the last whole group, list what a sort would.
    #[test]
    fn leading_counts_read_by_groups_are_those_a_sort_lists() {
        let mut state = 1u64;
        for len in [0, 7, 8, 9, 64, 100, 1_000] {
            for spread in [2, 4, 7, 40] {
                let counts: Vec<u64> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        // Mostly zeros and ones, as a report's codes and clients.
                        (state >> 33) % spread * ((state >> 60) % 2)
                    })
                    .collect();
                for n in [0, 1, 3, 5, FEW] {
                    let mut sorted: Vec<usize> = (0..len).filter(|&i| counts[i] > 0).collect();
                    sorted.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
                    sorted.truncate(n);
                    assert_eq!(leading(&counts, n, |a, b| a < b), sorted, "{len} {spread} {n}");
                }
            }
        }
    }

    #[test]
    fn clear_starts_over() {
        let mut t = TopCounts::default();
        t.add(b"/a");
        t.clear();
        assert!(t.top(5).is_empty());
        t.add(b"/b");
        assert_eq!(names(&t.top(5)), [("/b".into(), 1)]);
    }

    /// Clearing empties every slot, whatever runs the probes made: full
    /// tables, tables that evicted (whose shifts moved slots), a small
    /// table whose runs wrap around its end, and tables of fewer slots than
    /// a group of 16; by the walks of few entries and by the groups.
    #[test]
    fn clear_empties_every_slot() {
        let tables = [(TRACKED, 10), (TRACKED, 600), (TRACKED, TRACKED), (TRACKED, 5_000), (8, 3), (8, 8), (8, 100)];
        for (capacity, keys) in tables.into_iter().chain([(1, 1), (1, 5), (2, 2), (3, 1)]) {
            let mut t = TopCounts::tracking(capacity);
            for round in 0..3 {
                for i in 0..keys {
                    t.add(format!("/k{i}/{round}").as_bytes());
                }
                t.clear();
                assert!(t.slots.iter().all(|&s| s == EMPTY), "{capacity} {keys} round {round}");
            }
        }
    }

    #[test]
    fn exact_up_to_the_limit() {
        let mut t = TopCounts::default();
        for round in 0..3 {
            for i in 0..TRACKED {
                if i % 3 >= round {
                    t.add(format!("/s{i}").as_bytes());
                }
            }
        }
        assert!(!t.approximate());
        assert_eq!(t.distinct(), TRACKED);
        let top = t.top(TRACKED);
        let total: u64 = top.iter().map(|s| s.hits).sum();
        assert_eq!(total, (0..TRACKED).map(|i| (i % 3 + 1) as u64).sum::<u64>());
    }

    #[test]
    fn heavy_hitters_survive_a_flood_of_new_sections() {
        let mut t = TopCounts::default();
        for i in 0..50_000 {
            t.add(format!("/scan{i}").as_bytes());
            if i % 10 == 0 {
                t.add(b"/api");
            }
            if i % 25 == 0 {
                t.add(b"/static");
            }
        }
        assert!(t.approximate());
        assert_eq!(t.distinct(), TRACKED);
        // Space-Saving's invariant: the counts add up to the hits seen.
        assert_eq!(t.rows[..t.len].iter().map(|r| r.hits).sum::<u64>(), 50_000 + 5_000 + 2_000);
        let top = t.top(2);
        assert_eq!(top[0].key, b"/api");
        assert_eq!(top[1].key, b"/static");
        // Space-Saving never under-counts.
        assert!(top[0].hits >= 5_000);
        assert!(top[1].hits >= 2_000);
        // Every tracked entry is still found after all the shifting: adding
        // each once more must not evict anything.
        let keys: Vec<Vec<u8>> = (0..t.distinct()).map(|i| t.key(i).bytes().to_vec()).collect();
        let total_before: u64 = t.rows[..t.len].iter().map(|r| r.hits).sum();
        for k in &keys {
            t.add(k);
        }
        let total_after: u64 = t.rows[..t.len].iter().map(|r| r.hits).sum();
        assert_eq!(total_after, total_before + keys.len() as u64, "a tracked key was not found");
    }

    #[test]
    fn the_cut_is_the_count_after_the_kept_ones() {
        let mut scratch = Vec::new();
        for seed in 0..30 {
            let mut rng = Rng::seeded(seed);
            // Small counts, large ones (the selection), and both.
            let most = [4, 70, 1_000][seed as usize % 3];
            let counts: Vec<u64> =
                (0..TRACKED as u64 + 1 + rng.below(2_000)).map(|_| 1 + rng.below(most) * rng.below(2)).collect();
            let mut sorted = counts.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(kept_above(&counts, &mut scratch), sorted[TRACKED], "seed {seed}");
        }
    }

    /// Merges `reports` report tables of `hits` hits each, their keys
    /// drawn by `draw`, into a run's table, and checks it against the exact
    /// sums of what was merged: every count listed is at least its key's
    /// sum and over by at most the bound, `N / (TRACKED + 1)` of the `N`
    /// hits merged; every key above the bound is listed; and all is exact
    /// while no reduction was needed. Returns whether one was.
    fn run_within_bound(seed: u64, reports: usize, hits: usize, mut draw: impl FnMut(&mut Rng) -> u64) -> bool {
        let mut rng = Rng::seeded(seed);
        let mut run = RunCounts::default();
        let mut exact: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut report = TopCounts::default();
        for _ in 0..reports {
            report.clear();
            for _ in 0..hits {
                report.add(format!("10.{}", draw(&mut rng)).as_bytes());
            }
            assert!(!report.approximate(), "the reports themselves stay exact");
            for k in report.top(TRACKED) {
                *exact.entry(k.key).or_default() += k.hits;
            }
            run.merge(&report);
        }
        let merged: u64 = exact.values().sum();
        let bound = merged / (TRACKED as u64 + 1);
        assert!(run.taken() <= bound, "seed {seed}: {} taken, bound {bound}", run.taken());
        let listed: HashMap<Vec<u8>, u64> = run.top(RUN_CAPACITY).into_iter().map(|k| (k.key, k.hits)).collect();
        for (key, &sum) in &exact {
            match listed.get(key) {
                Some(&count) => assert!(
                    sum <= count && count <= sum + bound,
                    "seed {seed}: {} counted {count}, sum {sum}, bound {bound}",
                    String::from_utf8_lossy(key)
                ),
                None => assert!(sum <= bound, "seed {seed}: {} ({sum} > {bound}) lost", String::from_utf8_lossy(key)),
            }
        }
        if !run.approximate() {
            assert_eq!(listed, exact, "seed {seed}: exact while nothing was taken");
        }
        assert_eq!(run.approximate(), exact.len() > RUN_CAPACITY, "seed {seed}: {} keys", exact.len());
        run.approximate()
    }

    #[test]
    fn the_run_is_within_its_bound_on_skewed_streams() {
        for seed in 0..4 {
            // Key i drawn with probability falling off as 1/i, roughly.
            assert!(run_within_bound(seed, 60, 1_000, |rng| {
                let top = 1 + rng.below(50_000);
                rng.below(top)
            }));
        }
    }

    #[test]
    fn the_run_is_within_its_bound_on_uniform_streams() {
        for seed in 0..4 {
            assert!(run_within_bound(seed, 40, 1_000, |rng| rng.below(6_000)));
        }
    }

    #[test]
    fn the_run_is_exact_while_its_keys_fit() {
        for seed in 0..4 {
            assert!(!run_within_bound(seed, 40, 1_000, |rng| rng.below(RUN_CAPACITY as u64)));
        }
    }

    /// Merged keys of every length, and keys that differ only in trailing
    /// zeros, find their entries in the run's table again, report after
    /// report: the shape read from an entry is the one its key's lookup
    /// makes.
    #[test]
    fn merged_keys_of_every_length_meet_their_entries() {
        let long: Vec<u8> = (0..MAX_SECTION_LEN).map(|i| b'a' + (i % 26) as u8).collect();
        let mut keys: Vec<Vec<u8>> = (0..=MAX_SECTION_LEN).map(|len| long[..len].to_vec()).collect();
        keys.extend([b"a\0".to_vec(), b"a\0\0\0\0\0\0\0".to_vec(), b"ab\0\0\0\0\0\0\0\0".to_vec()]);
        let mut run = RunCounts::default();
        for round in 1..=3 {
            run.merge(&counted(keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u64 + 1))));
            let top = run.top(keys.len() + 1);
            assert_eq!(top.len(), keys.len(), "round {round}");
            for k in top {
                let i = keys.iter().position(|key| *key == k.key).expect("a merged key");
                assert_eq!(k.hits, round * (i as u64 + 1), "{:?}", k.key);
            }
        }
    }

    /// A report's table holding `keys` with their counts, in that order.
    fn counted(keys: impl IntoIterator<Item = (Vec<u8>, u64)>) -> TopCounts {
        let mut table = TopCounts::default();
        for (key, n) in keys {
            table.add_n(&key, n);
        }
        assert!(!table.approximate());
        table
    }

    /// One reduction, pinned: it takes the ([`TRACKED`] + 1)th largest
    /// count, no more and no less, from every entry. The bound tests above
    /// leave room (their cuts are small), so a reduction that took twice the
    /// cut would pass them.
    #[test]
    fn one_reduction_takes_exactly_the_cut() {
        let mut run = RunCounts::default();
        // Keys of counts 1 to 2048 fill the table; a new key then makes room.
        let key = |c: u64| format!("10.{c}").into_bytes();
        for half in [1..=TRACKED as u64, TRACKED as u64 + 1..=RUN_CAPACITY as u64] {
            run.merge(&counted(half.map(|c| (key(c), c))));
        }
        assert_eq!(run.taken(), 0);
        run.merge(&counted([(b"new".to_vec(), 1)]));
        // The 1025th largest of 1..=2048 is 1024: keys 1025..=2048 are kept,
        // each listed at its exact sum (what is left plus what was taken),
        // and 1..=1024, none of them above the cut, are gone.
        let cut = (RUN_CAPACITY - TRACKED) as u64;
        assert_eq!(run.taken(), cut);
        let listed = run.top(RUN_CAPACITY);
        assert_eq!(listed.len(), TRACKED + 1);
        let mut expected: Vec<KeyHits> =
            (cut + 1..=RUN_CAPACITY as u64).map(|c| KeyHits { key: key(c), hits: c }).collect();
        expected.push(KeyHits { key: b"new".to_vec(), hits: 1 + cut });
        expected.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.key.cmp(&b.key)));
        assert_eq!(listed, expected);
    }

    /// The selection's copy of the counts is the one part of a run's table
    /// not made up front: it must stay at the table's size however many
    /// reductions select.
    #[test]
    fn the_selection_keeps_one_table_of_counts() {
        let mut run = RunCounts::default();
        for report in 0..8 {
            // Counts above SMALL_COUNT: every reduction selects.
            let keys = (0..TRACKED as u64).map(|i| (format!("10.{report}.{i}").into_bytes(), SMALL_COUNT as u64 + i));
            run.merge(&counted(keys));
        }
        assert!(run.taken() > 0);
        assert!((1..=RUN_CAPACITY).contains(&run.scratch.capacity()), "{}", run.scratch.capacity());
    }

    #[test]
    fn a_smaller_table_keeps_the_heavy_hitters() {
        let mut t = TopCounts::tracking(8);
        for i in 0..10_000 {
            t.add(format!("/rare{i}").as_bytes());
            if i % 4 == 0 {
                t.add(b"/heavy");
            }
        }
        assert_eq!(t.distinct(), 8);
        assert!(t.approximate());
        let top = t.top(1);
        assert_eq!(top[0].key, b"/heavy");
        assert!(top[0].hits >= 2_500, "never too low");
    }
}
