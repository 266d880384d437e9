//! Web Vitals as a value: the six a browser reports (LCP, INP, CLS, FCP,
//! TTFB, FID), rated with Google's thresholds ([`Budget::web_vitals`]) and
//! recorded in one call ([`Monitor::record_web_vitals`](crate::Monitor::record_web_vitals)).

use crate::budget::{Budget, Rating, WEB_VITALS_METRICS};

/// Web Vitals values of one page view, each optional: times in
/// milliseconds, CLS unitless.
///
/// ```
/// use perf_core::{Rating, WebVitals};
/// let vitals = WebVitals { lcp: Some(1800.0), cls: Some(0.3), ..WebVitals::default() };
/// let ratings = vitals.rate();
/// assert_eq!(ratings.lcp, Some(Rating::Good));
/// assert_eq!(ratings.cls, Some(Rating::Poor));
/// assert_eq!(ratings.inp, None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WebVitals {
    /// Largest Contentful Paint, ms.
    pub lcp: Option<f64>,
    /// Interaction to Next Paint, ms.
    pub inp: Option<f64>,
    /// Cumulative Layout Shift, unitless.
    pub cls: Option<f64>,
    /// First Contentful Paint, ms.
    pub fcp: Option<f64>,
    /// Time to First Byte, ms.
    pub ttfb: Option<f64>,
    /// First Input Delay, ms.
    pub fid: Option<f64>,
}

/// The rating of each Web Vital given ([`WebVitals::rate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebVitalsRatings {
    /// Largest Contentful Paint.
    pub lcp: Option<Rating>,
    /// Interaction to Next Paint.
    pub inp: Option<Rating>,
    /// Cumulative Layout Shift.
    pub cls: Option<Rating>,
    /// First Contentful Paint.
    pub fcp: Option<Rating>,
    /// Time to First Byte.
    pub ttfb: Option<Rating>,
    /// First Input Delay.
    pub fid: Option<Rating>,
}

impl WebVitals {
    /// The short names of the six vitals, in the order of
    /// [`WEB_VITALS_METRICS`] (`lcp` is recorded as `web_vitals.lcp`).
    pub const NAMES: [&'static str; 6] = ["lcp", "inp", "cls", "fcp", "ttfb", "fid"];

    /// `(metric, value)` of every vital given, in the order of
    /// [`WEB_VITALS_METRICS`].
    ///
    /// ```
    /// use perf_core::WebVitals;
    /// let vitals = WebVitals { ttfb: Some(120.0), ..WebVitals::default() };
    /// assert_eq!(vitals.given().collect::<Vec<_>>(), [("web_vitals.ttfb", 120.0)]);
    /// ```
    pub fn given(&self) -> impl Iterator<Item = (&'static str, f64)> {
        let values = [self.lcp, self.inp, self.cls, self.fcp, self.ttfb, self.fid];
        WEB_VITALS_METRICS
            .into_iter()
            .zip(values)
            .filter_map(|(metric, value)| Some((metric, value?)))
    }

    /// The rating of each vital given under [`Budget::web_vitals`]: good
    /// at or below the good limit, poor above the poor limit (a value on a
    /// boundary gets the better rating).
    pub fn rate(&self) -> WebVitalsRatings {
        let budget = Budget::web_vitals();
        let rate = |value: Option<f64>, metric: &str| {
            let item = budget.items.iter().find(|item| item.metric == metric)?;
            Some(item.rate(value?))
        };
        let [lcp, inp, cls, fcp, ttfb, fid] = WEB_VITALS_METRICS;
        WebVitalsRatings {
            lcp: rate(self.lcp, lcp),
            inp: rate(self.inp, inp),
            cls: rate(self.cls, cls),
            fcp: rate(self.fcp, fcp),
            ttfb: rate(self.ttfb, ttfb),
            fid: rate(self.fid, fid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_get_the_better_rating() {
        let on_limits = WebVitals {
            lcp: Some(2500.0),
            inp: Some(500.0),
            cls: Some(0.25),
            fcp: Some(3000.1),
            ttfb: Some(0.0),
            fid: Some(100.0),
        };
        let ratings = on_limits.rate();
        assert_eq!(ratings.lcp, Some(Rating::Good));
        assert_eq!(ratings.inp, Some(Rating::NeedsImprovement));
        assert_eq!(ratings.cls, Some(Rating::NeedsImprovement));
        assert_eq!(ratings.fcp, Some(Rating::Poor));
        assert_eq!(ratings.ttfb, Some(Rating::Good));
        assert_eq!(ratings.fid, Some(Rating::Good));
    }

    #[test]
    fn names_follow_the_metrics() {
        for (name, metric) in WebVitals::NAMES.iter().zip(WEB_VITALS_METRICS) {
            assert_eq!(metric, format!("web_vitals.{name}"));
        }
    }
}
