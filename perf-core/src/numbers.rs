//! How numbers are printed in reports and reasons: short, and only as
//! precise as a reader can use.

/// A number to four significant digits (at most six decimals), without
/// trailing zeros: `2500`, `53.13`, `0.795`, `0.1`.
pub(crate) fn compact(v: f64) -> String {
    if v.abs() >= 1e15 && v.is_finite() {
        // Scientific beyond: `1e308`, not three hundred digits.
        return format!("{v:.3e}")
            .replace(".000e", "e")
            .replace("00e", "e")
            .replace("0e", "e");
    }
    let magnitude = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).clamp(0, 6) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" { "0" } else { text }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(2500.0), "2500");
        assert_eq!(compact(1e308), "1e308");
        assert_eq!(compact(-1.5e20), "-1.5e20");
        assert_eq!(compact(1.8446744073709552e19), "1.845e19");
        assert_eq!(compact(0.1), "0.1");
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(312.4567), "312.5");
        assert_eq!(compact(53.1251), "53.13");
        assert_eq!(compact(0.795), "0.795");
        assert_eq!(compact(12345.6), "12346");
        assert_eq!(compact(-40.0), "-40");
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(-0.00000001), "0");
    }
}
