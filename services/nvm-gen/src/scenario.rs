//! The timeline: flows start over the configured time span, their records
//! come out in event-time order with a few seconds of jitter, and a handful
//! of cached flows are held back for the end of the output.
//!
//! Memory stays bounded because only the records of connections that are
//! still open wait in the heap; everything else streams straight through.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::fleet::Fleet;
use crate::flow::{Flow, Report};
use crate::model::HostKind;
use crate::rng::Rng;
use crate::traffic;

/// Records a flow yields on average before the timeline has measured it.
const PRIOR_RECORDS_PER_FLOW: f64 = 2.0;
/// How many flows' worth of weight that prior carries.
const PRIOR_WEIGHT: f64 = 8.0;

/// A record waiting for its turn; the heap pops the smallest `order_ms`.
struct Queued {
    order_ms: u64,
    seq: u64,
    report: Report,
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap and we want the earliest.
        (other.order_ms, other.seq).cmp(&(self.order_ms, self.seq))
    }
}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

/// Produces on-time records for ever: background flows at a rate that
/// spreads the requested record count over the time span, merged with
/// scripted flows (rclone sessions) at their planned times.
pub struct Timeline {
    rng: Rng,
    heap: BinaryHeap<Queued>,
    seq: u64,
    next_arrival_ms: f64,
    scripted: VecDeque<Flow>,
    records_per_ms: f64,
    background_records: u64,
    background_flows: u64,
}

impl Timeline {
    /// `background_records` records spread over `duration_ms` from
    /// `start_ms`, plus the `scripted` flows.
    pub fn new(
        rng: Rng,
        start_ms: u64,
        duration_ms: u64,
        background_records: u64,
        mut scripted: Vec<Flow>,
    ) -> Timeline {
        scripted.sort_by_key(|f| f.start_ms);
        Timeline {
            rng,
            heap: BinaryHeap::new(),
            seq: 0,
            next_arrival_ms: start_ms as f64,
            scripted: scripted.into(),
            records_per_ms: background_records.max(1) as f64 / duration_ms.max(1) as f64,
            background_records: 0,
            background_flows: 0,
        }
    }

    /// The next record in output order.
    pub fn next(&mut self, fleet: &mut Fleet) -> Report {
        loop {
            // Every flow not yet started begins at or after `horizon`, and
            // its records sort at or after their flow's start, so anything
            // queued before it is final.
            let horizon = self.next_start_ms();
            if self.heap.peek().is_some_and(|q| q.order_ms <= horizon) {
                return self.heap.pop().expect("peeked").report;
            }
            self.start_next_flow(fleet);
        }
    }

    fn next_start_ms(&self) -> u64 {
        let background = self.next_arrival_ms as u64;
        match self.scripted.front() {
            Some(f) => f.start_ms.min(background),
            None => background,
        }
    }

    fn start_next_flow(&mut self, fleet: &mut Fleet) {
        let background = self.next_arrival_ms as u64;
        if self
            .scripted
            .front()
            .is_some_and(|f| f.start_ms <= background)
        {
            let flow = self.scripted.pop_front().expect("checked");
            self.enqueue(&flow);
            return;
        }
        let flow = traffic::background_flow(&mut self.rng, fleet, background);
        let records = self.enqueue(&flow);
        self.background_records += records;
        self.background_flows += 1;
        self.advance_arrival();
    }

    /// Draws the gap to the next background flow. The mean gap follows the
    /// measured records per flow, so the record count lands near the end of
    /// the time span whatever the traffic mix.
    fn advance_arrival(&mut self) {
        let per_flow = (self.background_records as f64 + PRIOR_RECORDS_PER_FLOW * PRIOR_WEIGHT)
            / (self.background_flows as f64 + PRIOR_WEIGHT);
        let mean_gap_ms = per_flow / self.records_per_ms;
        self.next_arrival_ms += 2.0 * mean_gap_ms * self.rng.unit();
    }

    fn enqueue(&mut self, flow: &Flow) -> u64 {
        let reports = flow.reports(&mut self.rng);
        let count = reports.len() as u64;
        // A flow's own records never overtake each other: its start report
        // is exported before its end report even when both carry the same
        // event time.
        let mut floor = 0;
        for report in reports {
            let order_ms = (report.start_ms + jitter_ms(&mut self.rng)).max(floor);
            floor = order_ms;
            self.seq += 1;
            self.heap.push(Queued {
                order_ms,
                seq: self.seq,
                report,
            });
        }
        count
    }
}

/// Collectors batch and relay records, so most arrive within a fraction of
/// a second of event order and some a few seconds out of it.
fn jitter_ms(rng: &mut Rng) -> u64 {
    if rng.chance(0.15) {
        rng.below(5_000)
    } else {
        rng.below(400)
    }
}

/// Cached flows: records from laptops that were off the trusted network,
/// delivered together when they reconnect, after the rest of the output.
/// `cached` flows (from rclone sessions) go first; background flows from
/// roaming laptops fill up to `budget` records.
pub fn late_reports(
    rng: &mut Rng,
    fleet: &mut Fleet,
    start_ms: u64,
    duration_ms: u64,
    cached: &[Flow],
    budget: u64,
) -> Vec<Report> {
    let arrival_ms = start_ms + duration_ms;
    let mut out: Vec<Report> = cached.iter().flat_map(|f| f.reports(rng)).collect();
    let roamers = roaming_hosts(fleet);
    while (out.len() as u64) < budget {
        // Events from the first quarter of the span: hours late by the end.
        let at = start_ms + duration_ms / 50 + rng.below(duration_ms / 4);
        let host = *rng.pick(&roamers);
        let flow = traffic::flow_on(rng, fleet, host, at, true);
        out.extend(flow.reports(rng));
    }
    out.truncate(budget as usize);
    out.sort_by_key(|r| r.start_ms);
    for report in &mut out {
        report.export_ms = arrival_ms + rng.range(1_000, 90_000);
    }
    out
}

/// Laptops with process context, or any host when there are none.
fn roaming_hosts(fleet: &Fleet) -> Vec<usize> {
    let laptops: Vec<usize> = (0..fleet.hosts.len())
        .filter(|&i| fleet.hosts[i].kind == HostKind::Laptop && !fleet.hosts[i].legacy)
        .collect();
    if laptops.is_empty() {
        (0..fleet.hosts.len()).collect()
    } else {
        laptops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn run(count: u64) -> (Fleet, Vec<Report>) {
        let mut fleet = Fleet::build(&mut Rng::new(5, Stream::Fleet), 50);
        let mut timeline = Timeline::new(Rng::new(5, Stream::Traffic), 0, 3_600_000, count, vec![]);
        let reports = (0..count).map(|_| timeline.next(&mut fleet)).collect();
        (fleet, reports)
    }

    #[test]
    fn records_come_out_in_event_order_within_a_few_seconds() {
        let (_, reports) = run(5000);
        let mut latest = 0;
        for r in &reports {
            assert!(
                r.start_ms + 5_000 >= latest,
                "{} after {latest}",
                r.start_ms
            );
            latest = latest.max(r.start_ms);
        }
    }

    #[test]
    fn the_record_count_spans_roughly_the_requested_time() {
        let (_, reports) = run(20_000);
        let last = reports.iter().map(|r| r.start_ms).max().unwrap();
        assert!(
            (3_000_000..4_200_000).contains(&last),
            "last event at {last} ms"
        );
    }

    #[test]
    fn late_reports_fill_the_budget_and_come_from_home_networks() {
        let (mut fleet, _) = run(10);
        let mut rng = Rng::new(5, Stream::Late);
        let late = late_reports(&mut rng, &mut fleet, 0, 10_800_000, &[], 7);
        assert_eq!(late.len(), 7);
        assert!(late
            .iter()
            .all(|r| r.export_ms > 10_800_000 && r.end_ms < 5_400_000));
        assert!(late
            .iter()
            .all(|r| r.conn.source == crate::flow::Source::Home));
    }
}
