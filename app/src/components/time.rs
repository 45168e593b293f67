//! Times as people read them: "3 min ago", with the exact time in a tooltip.

use leptos::prelude::*;

/// Seconds since the Unix epoch of an RFC 3339 time in UTC (`2026-12-01T10:00:00Z`, fractions
/// ignored); None when it is not one.
pub fn epoch_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// Now, in seconds since the epoch.
pub fn now_seconds() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// "42s", "3m", "5h", "2d" as kubectl prints ages.
pub fn short_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// "3 min ago".
pub fn ago(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// A time, as an age with the exact time in its tooltip.
#[component]
pub fn Age(#[prop(into)] at: String, #[prop(optional)] long: bool) -> impl IntoView {
    let text = match epoch_seconds(&at) {
        Some(t) if long => ago(now_seconds() - t),
        Some(t) => short_age(now_seconds() - t),
        None => "—".into(),
    };
    view! { <time datetime=at.clone() title=at>{text}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_read_as_epoch_seconds() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("2026-12-01T10:00:00Z"), Some(1_796_119_200));
        assert_eq!(epoch_seconds("2024-02-29T12:30:15.25Z"), Some(1_709_209_815));
        assert_eq!(epoch_seconds("yesterday"), None);
        assert_eq!(short_age(90), "90s");
        assert_eq!(short_age(3 * 86_400), "3d");
    }
}
