//! Ordinary traffic: which host opens a connection, from which process, to
//! where, for how long and with how many bytes. Rclone sessions reuse
//! [`connection`] so scripted and background flows look alike on the wire.

use std::sync::Arc;

use crate::fleet::Fleet;
use crate::flow::{Conn, Flow, Source};
use crate::model::{Activity, Host, Os, Process};
use crate::net::{Target, Traffic};
use crate::rng::Rng;

/// `dh` when the endpoint reached an address without resolving a name.
pub const UNKNOWN_HOST: &str = "Unknown";

/// A background flow starting at `at_ms` on a host chosen by activity.
pub fn background_flow(rng: &mut Rng, fleet: &mut Fleet, at_ms: u64) -> Flow {
    let host = fleet.pick_host(rng);
    flow_on(rng, fleet, host, at_ms, false)
}

/// A flow on a given host; `roaming` flows leave from its home network.
pub fn flow_on(rng: &mut Rng, fleet: &mut Fleet, host: usize, at_ms: u64, roaming: bool) -> Flow {
    let (process, target) = choose_activity(rng, fleet, host);
    let conn = connection(rng, &fleet.hosts[host], host, process, target, roaming);
    shaped_flow(rng, &fleet.hosts[host], conn, target.traffic, at_ms)
}

/// A flow from an already running process, without starting any new
/// process: used for samples that must not disturb the main stream.
pub fn sample_flow(rng: &mut Rng, fleet: &Fleet, host: usize, at_ms: u64) -> Option<Flow> {
    let running: Vec<_> = fleet.hosts[host]
        .activities
        .iter()
        .filter_map(|a| match a {
            Activity::Running(p, spec) => Some((p, spec)),
            Activity::Spawn(_) => None,
        })
        .collect();
    if running.is_empty() {
        return None;
    }
    let (process, spec) = *rng.pick(&running);
    let target = pick_target(rng, spec.targets);
    let conn = connection(
        rng,
        &fleet.hosts[host],
        host,
        process.clone(),
        target,
        false,
    );
    Some(shaped_flow(
        rng,
        &fleet.hosts[host],
        conn,
        target.traffic,
        at_ms,
    ))
}

fn shaped_flow(rng: &mut Rng, host: &Host, conn: Conn, traffic: Traffic, at_ms: u64) -> Flow {
    let (duration_ms, bytes_in, bytes_out) = shape(rng, traffic);
    Flow {
        conn: Arc::new(conn),
        start_ms: at_ms,
        duration_ms,
        bytes_in,
        bytes_out,
        report_start: host.reports_start,
        report_periodic: !host.legacy,
    }
}

/// Picks one of the host's activities by weight, starting a new process
/// for tools that run afresh each time.
fn choose_activity(
    rng: &mut Rng,
    fleet: &mut Fleet,
    host: usize,
) -> (Arc<Process>, &'static Target) {
    let activities = &fleet.hosts[host].activities;
    let chosen = rng.weighted(activities.iter().map(|a| a.spec().weight));
    match &activities[chosen] {
        Activity::Running(process, spec) => (process.clone(), pick_target(rng, spec.targets)),
        Activity::Spawn(spec) => {
            let spec = *spec;
            let i = rng.weighted(spec.invocations.iter().map(|v| u64::from(v.target.weight)));
            let invocation = &spec.invocations[i];
            let process = fleet.spawn(rng, host, spec, invocation.args);
            (process, &invocation.target)
        }
    }
}

fn pick_target(rng: &mut Rng, targets: &'static [Target]) -> &'static Target {
    &targets[rng.weighted(targets.iter().map(|t| u64::from(t.weight)))]
}

/// The addressing of a connection from `process` on `host` to `target`.
pub fn connection(
    rng: &mut Rng,
    host: &Host,
    host_index: usize,
    process: Arc<Process>,
    target: &'static Target,
    roaming: bool,
) -> Conn {
    let dest = target.dest;
    let use_v6 = !roaming && host.ip6.is_some() && !dest.v6.is_empty() && rng.chance(0.5);
    let (source, address) = match (roaming, use_v6) {
        (true, _) => (Source::Home, *rng.pick(dest.v4)),
        (false, true) => (Source::Office6, *rng.pick(dest.v6)),
        (false, false) => (Source::Office, *rng.pick(dest.v4)),
    };
    // A name is sometimes missing from NVM's DNS cache even for named
    // services; endpoints reached by bare address never have one.
    let dest_name = if dest.name.is_empty() || rng.chance(0.03) {
        UNKNOWN_HOST
    } else {
        dest.name
    };
    let http = match target.traffic {
        Traffic::Http(req) => Some((dest.name, req)),
        _ => None,
    };
    Conn {
        host: host_index,
        process,
        proto: target.proto,
        source,
        sport: ephemeral_port(rng, host.os()),
        dest: address,
        dport: target.port,
        dest_name,
        http,
        session: None,
    }
}

/// Source ports from each OS's ephemeral range.
pub fn ephemeral_port(rng: &mut Rng, os: Os) -> u16 {
    match os {
        Os::Linux => rng.range(32_768, 60_999) as u16,
        _ => rng.range(49_152, 65_535) as u16,
    }
}

/// Duration (ms), bytes in and bytes out typical of each kind of traffic.
pub fn shape(rng: &mut Rng, traffic: Traffic) -> (u64, u64, u64) {
    let (dur, inb, outb) = match traffic {
        Traffic::Web => ((80, 45_000), (3_000, 2_500_000), (600, 60_000)),
        Traffic::Api => ((50, 4_000), (400, 60_000), (300, 25_000)),
        Traffic::Long => ((240_000, 3_600_000), (20_000, 8_000_000), (5_000, 900_000)),
        Traffic::Upload => ((1_000, 400_000), (4_000, 200_000), (200_000, 300_000_000)),
        Traffic::Download => ((500, 240_000), (500_000, 400_000_000), (2_000, 80_000)),
        Traffic::Dns => ((1, 60), (60, 520), (36, 110)),
        Traffic::Ntp => ((5, 80), (48, 48), (48, 48)),
        Traffic::Media => (
            (180_000, 2_700_000),
            (3_000_000, 250_000_000),
            (3_000_000, 250_000_000),
        ),
        Traffic::Smb => ((200, 1_200_000), (2_000, 50_000_000), (1_000, 5_000_000)),
        Traffic::Ssh => ((800, 40_000), (5_000, 20_000_000), (2_000, 200_000)),
        Traffic::Http(_) => ((30, 3_000), (300, 400_000), (150, 900)),
    };
    (
        rng.spread(dur.0, dur.1),
        rng.spread(inb.0, inb.1),
        rng.spread(outb.0, outb.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Proto;
    use crate::rng::Stream;

    #[test]
    fn udp_targets_keep_their_protocol() {
        let mut fleet = Fleet::build(&mut Rng::new(3, Stream::Fleet), 30);
        let mut rng = Rng::new(3, Stream::Traffic);
        let flows: Vec<_> = (0..2000)
            .map(|i| background_flow(&mut rng, &mut fleet, i))
            .collect();
        assert!(flows
            .iter()
            .any(|f| f.conn.proto == Proto::Udp && f.conn.dport == 53));
        assert!(flows
            .iter()
            .any(|f| f.conn.http.is_some() && f.conn.dport == 80));
        assert!(flows
            .iter()
            .all(|f| f.conn.dport != 53 || f.conn.proto == Proto::Udp));
    }
}
