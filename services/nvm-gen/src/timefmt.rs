//! Text renderings of epoch seconds: the `fst`/`fet` form
//! (`Tue Jul 14 13:58:53 2026`, C's `asctime` layout) and the RFC 3164
//! syslog header form (`Jul 14 08:28:53`). Written by hand so the crate
//! needs no calendar dependency and the hot path allocates nothing.

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC (or offset) time.
#[derive(Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub weekday: usize,
}

impl Civil {
    /// Splits epoch seconds; `offset_min` shifts to a local time zone.
    pub fn from_epoch(secs: i64, offset_min: i32) -> Civil {
        let local = secs + i64::from(offset_min) * 60;
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400) as u32;
        let (year, month, day) = date_of_day(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as usize,
        }
    }
}

/// Proleptic Gregorian date of a day count since 1970-01-01, computed in
/// 400-year eras that start on March 1st so leap days fall at era ends.
fn date_of_day(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `Tue Jul 14 13:58:53 2026`; days below 10 are space-padded as asctime does.
pub fn write_ctime(out: &mut Vec<u8>, secs: i64, offset_min: i32) {
    let t = Civil::from_epoch(secs, offset_min);
    out.extend_from_slice(DAYS[t.weekday].as_bytes());
    out.push(b' ');
    write_month_day(out, &t);
    out.push(b' ');
    write_clock(out, &t);
    out.push(b' ');
    crate::encode::push_u64(out, t.year.max(0) as u64);
}

/// `Jul 14 08:28:53`, the RFC 3164 timestamp.
pub fn write_syslog(out: &mut Vec<u8>, secs: i64) {
    let t = Civil::from_epoch(secs, 0);
    write_month_day(out, &t);
    out.push(b' ');
    write_clock(out, &t);
}

/// `2026-07-14T08:28:53Z`, for summaries and deliberately wrong fields.
pub fn iso8601(secs: i64) -> String {
    let t = Civil::from_epoch(secs, 0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

fn write_month_day(out: &mut Vec<u8>, t: &Civil) {
    out.extend_from_slice(MONTHS[t.month as usize - 1].as_bytes());
    out.push(b' ');
    if t.day < 10 {
        out.push(b' ');
    }
    push_two_or_one(out, t.day);
}

fn write_clock(out: &mut Vec<u8>, t: &Civil) {
    push_two(out, t.hour);
    out.push(b':');
    push_two(out, t.minute);
    out.push(b':');
    push_two(out, t.second);
}

fn push_two(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push_two_or_one(out: &mut Vec<u8>, v: u32) {
    if v >= 10 {
        out.push(b'0' + (v / 10) as u8);
    }
    out.push(b'0' + (v % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctime(secs: i64, offset_min: i32) -> String {
        let mut out = Vec::new();
        write_ctime(&mut out, secs, offset_min);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_utc_and_offset_times_like_nvm() {
        assert_eq!(ctime(1_750_954_134, 0), "Thu Jun 26 16:08:54 2025");
        assert_eq!(ctime(1_784_017_733, 330), "Tue Jul 14 13:58:53 2026");
    }

    #[test]
    fn pads_single_digit_days_with_a_space() {
        // 2026-03-01T00:00:05Z, just after a non-leap February.
        assert_eq!(ctime(1_772_323_205, 0), "Sun Mar  1 00:00:05 2026");
        let mut out = Vec::new();
        write_syslog(&mut out, 1_772_323_205);
        assert_eq!(out, b"Mar  1 00:00:05");
    }

    #[test]
    fn handles_leap_days_and_the_epoch() {
        assert_eq!(ctime(0, 0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(iso8601(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(iso8601(1_784_016_000), "2026-07-14T08:00:00Z");
    }
}
